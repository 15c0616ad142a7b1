import koffi from 'koffi';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { kernel32 } from './kernel32.js';
import type { OutputRedirect } from './platform-api.js';

/** STD_OUTPUT_HANDLE and STD_ERROR_HANDLE, with the C runtimes' fds 1 and 2. */
const STREAMS = [{ std: -11 >>> 0, fd: 1 }, { std: -12 >>> 0, fd: 2 }] as const;
/** The C runtimes a DLL's printf writes through: mingw's default (msvcrt) and the
 *  Universal CRT (MSVC builds, mingw's UCRT toolchains). Each keeps its own fd table. */
const CRT_DLLS = ['msvcrt.dll', 'ucrtbase.dll'];
const GENERIC_WRITE = 0x4000_0000;
const OPEN_EXISTING = 3;
const DUPLICATE_SAME_ACCESS = 2;
const HANDLE_FLAG_PROTECT_FROM_CLOSE = 2;
/** Binary: a line comes through as printed, without a `\r` added before its `\n`. */
const O_WRONLY_BINARY = 0x0001 | 0x8000;
const INVALID_HANDLE = 0xffff_ffff_ffff_ffffn;

interface Crt {
  getOsHandle: (fd: number) => bigint | number;
  openOsHandle: (handle: bigint, flags: number) => number;
  dup: (fd: number) => number;
  dup2: (from: number, to: number) => number;
  close: (fd: number) => number;
  /** fflush(NULL), on a thread of the pool: it may wait for the pipe's reader, this thread. */
  flushAll: (done: () => void) => void;
}

function loadCrt(name: string): Crt {
  const lib = koffi.load(name);
  const fflush = lib.func('int fflush(void *stream)');
  return {
    getOsHandle: lib.func('intptr_t _get_osfhandle(int fd)') as Crt['getOsHandle'],
    openOsHandle: lib.func('int _open_osfhandle(intptr_t handle, int flags)') as Crt['openOsHandle'],
    dup: lib.func('int _dup(int fd)') as Crt['dup'],
    dup2: lib.func('int _dup2(int from, int to)') as Crt['dup2'],
    close: lib.func('int _close(int fd)') as Crt['close'],
    flushAll: (done) => { fflush.async(null, () => done()); },
  };
}

/** A named pipe this process listens on and writes into: the read end is a Node socket
 *  (overlapped reads on the event loop), the write end a plain blocking handle. */
async function loopbackPipe(name: string): Promise<{ reader: Socket; writer: unknown }> {
  const server = createServer();
  server.listen(name);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const writer = kernel32().createFile(name, GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
  if (writer === null || koffi.address(writer) === INVALID_HANDLE) {
    server.close();
    throw new Error(`cannot open ${name}`);
  }
  const [reader] = await accepted;
  server.close(); // no further connections; the accepted one stays
  return { reader, writer };
}

/** What to put back on one fd of one C runtime. */
interface Moved { crt: Crt; fd: number; saved: number }

/**
 * Windows' output capture: the C runtimes' fds 1 and 2 (msvcrt's and the UCRT's, `_dup2`
 * through koffi) and the process's std handles (`SetStdHandle`, for WriteFile(GetStdHandle))
 * moved onto two named pipes this process reads. Node's own streams keep the originals.
 * A C runtime linked statically into a DLL (MSVC's /MT) reads the std handles when the DLL
 * loads, so it follows too; one initialised earlier does not.
 */
export async function redirectWindowsOutput(): Promise<OutputRedirect> {
  // Made now, on the originals (a later Node stream would ask for the std handles again).
  void process.stdout;
  void process.stderr;
  const k = kernel32();
  const self = k.getCurrentProcess();
  const base = `\\\\.\\pipe\\isoswap-output-${process.pid}-${Date.now().toString(36)}`;
  const pipes = await Promise.all(STREAMS.map((_s, i) => loopbackPipe(`${base}-${i}`)));
  const crts = CRT_DLLS.map(loadCrt);
  const moved: Moved[] = [];
  const savedStd = STREAMS.map(({ std }) => k.getStdHandle(std));
  STREAMS.forEach(({ std, fd }, i) => {
    const writer = pipes[i]!.writer;
    for (const crt of crts) {
      const copy: unknown[] = [null];
      if (k.duplicateHandle(self, writer, self, copy, 0, 0, DUPLICATE_SAME_ACCESS) === 0) continue;
      const temp = crt.openOsHandle(koffi.address(copy[0]), O_WRONLY_BINARY);
      if (temp < 0) { k.closeHandle(copy[0]); continue; }
      // The fd's handle is also Node's (every C runtime starts from the std handles): the
      // _dup2 that replaces it must not close it.
      const original = crt.getOsHandle(fd);
      const held = BigInt(original) !== INVALID_HANDLE && BigInt(original) !== 0xffff_ffff_ffff_fffen;
      if (held) k.setHandleInformation(original, HANDLE_FLAG_PROTECT_FROM_CLOSE, HANDLE_FLAG_PROTECT_FROM_CLOSE);
      const saved = crt.dup(fd);
      crt.dup2(temp, fd);
      if (held) k.setHandleInformation(original, HANDLE_FLAG_PROTECT_FROM_CLOSE, 0);
      crt.close(temp);
      moved.push({ crt, fd, saved });
    }
    k.setStdHandle(std, writer);
  });

  let flushing: Promise<void> | null = null;
  const flush = (): Promise<void> => {
    flushing ??= Promise.all(crts.map((crt) => new Promise<void>((done) => crt.flushAll(done)))).then(() => { flushing = null; });
    return flushing;
  };
  return {
    readers: [pipes[0]!.reader, pipes[1]!.reader],
    flush: () => { void flush(); },
    drain: async () => { await flush(); await flush(); }, // the second starts after the library closed
    restore() {
      STREAMS.forEach(({ std }, i) => k.setStdHandle(std, savedStd[i]));
      for (const { crt, fd, saved } of moved) {
        if (saved >= 0) {
          crt.dup2(saved, fd);
          crt.close(saved);
        } else {
          crt.close(fd);
        }
      }
      for (const pipe of pipes) k.closeHandle(pipe.writer); // the readers end once every copy is closed
    },
  };
}
