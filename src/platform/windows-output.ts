import koffi from 'koffi';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { IsoswapError } from '../errors.js';
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
/** What `_get_osfhandle` gives for an fd with no console behind it. */
const NO_CONSOLE_HANDLE = 0xffff_ffff_ffff_fffen;
/** Tells a process-isolation child the pipes' name (each stream's ends in `-0`, `-1`). */
export const OUTPUT_PIPES_ENV = 'ISOSWAP_OUTPUT_PIPES';
/** How often a child writes out what its C runtimes buffer (a pipe is block-buffered). */
const FLUSH_EVERY_MS = 50;

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
async function loopbackPipe(name: string): Promise<{ server: Server; reader: Socket; writer: unknown }> {
  const server = createServer();
  server.listen(name);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const writer = kernel32().createFile(name, GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
  if (writer === null || koffi.address(writer) === INVALID_HANDLE) {
    server.close();
    throw new IsoswapError('ERR_OUTPUT_CAPTURE', `isoswap run: cannot open ${name}, the library's output cannot be captured`);
  }
  const [reader] = await accepted;
  return { server, reader, writer }; // listening on: a process-isolation child connects too
}

/** What to put back on one fd of one C runtime. */
interface Moved { crt: Crt; fd: number; saved: number }

/** Moves every C runtime's fds 1 and 2 and the std handles onto `writers` (stdout's,
 *  stderr's); returns what `putBack` needs. */
function moveOutput(crts: Crt[], writers: unknown[]): { moved: Moved[]; std: unknown[] } {
  const k = kernel32();
  const self = k.getCurrentProcess();
  const moved: Moved[] = [];
  const std = STREAMS.map(({ std: which }) => k.getStdHandle(which));
  STREAMS.forEach(({ std: which, fd }, i) => {
    const writer = writers[i];
    for (const crt of crts) {
      const copy: unknown[] = [null];
      if (k.duplicateHandle(self, writer, self, copy, 0, 0, DUPLICATE_SAME_ACCESS) === 0) continue;
      const temp = crt.openOsHandle(koffi.address(copy[0]), O_WRONLY_BINARY);
      if (temp < 0) { k.closeHandle(copy[0]); continue; }
      // The fd's handle is also Node's (every C runtime starts from the std handles): the
      // _dup2 that replaces it must not close it.
      const original = crt.getOsHandle(fd);
      const held = ![INVALID_HANDLE, NO_CONSOLE_HANDLE].includes(BigInt.asUintN(64, BigInt(original)));
      if (held) k.setHandleInformation(original, HANDLE_FLAG_PROTECT_FROM_CLOSE, HANDLE_FLAG_PROTECT_FROM_CLOSE);
      const saved = crt.dup(fd);
      crt.dup2(temp, fd);
      if (held) k.setHandleInformation(original, HANDLE_FLAG_PROTECT_FROM_CLOSE, 0);
      crt.close(temp);
      moved.push({ crt, fd, saved });
    }
    k.setStdHandle(which, writer);
  });
  return { moved, std };
}

/** fflush(NULL) in every C runtime, one round at a time. */
function flusher(crts: Crt[]): () => Promise<void> {
  let flushing: Promise<void> | null = null;
  return () => {
    flushing ??= Promise.all(crts.map((crt) => new Promise<void>((done) => crt.flushAll(done)))).then(() => { flushing = null; });
    return flushing;
  };
}

/**
 * Windows' output capture: the C runtimes' fds 1 and 2 (msvcrt's and the UCRT's, `_dup2`
 * through koffi) and the process's std handles (`SetStdHandle`, for WriteFile(GetStdHandle))
 * moved onto two named pipes this process reads. Node's own streams keep the originals.
 * A C runtime linked statically into a DLL (MSVC's /MT) reads the std handles when the DLL
 * loads, so it follows too; one initialised earlier does not. A process-isolation child
 * is told the pipes' names and joins them ({@link followWindowsOutput}).
 */
export async function redirectWindowsOutput(): Promise<OutputRedirect> {
  // Made now, on the originals (a later Node stream would ask for the std handles again).
  void process.stdout;
  void process.stderr;
  const k = kernel32();
  const base = `\\\\.\\pipe\\isoswap-output-${process.pid}-${Date.now().toString(36)}`;
  const pipes = await Promise.all(STREAMS.map((_s, i) => loopbackPipe(`${base}-${i}`)))
    .catch((err: unknown) => { throw IsoswapError.from(err, 'ERR_OUTPUT_CAPTURE', 'isoswap run: capturing the library\'s output'); });
  const crts = CRT_DLLS.map(loadCrt);
  const { moved, std } = moveOutput(crts, pipes.map((p) => p.writer));
  process.env[OUTPUT_PIPES_ENV] = base;
  const flush = flusher(crts);
  const seen: Array<[0 | 1, Socket]> = pipes.map((p, i) => [i as 0 | 1, p.reader]);
  let onReader: ((index: 0 | 1, reader: Socket) => void) | null = null;
  pipes.forEach((p, i) => p.server.on('connection', (reader: Socket) => {
    seen.push([i as 0 | 1, reader]);
    onReader?.(i as 0 | 1, reader);
  }));
  return {
    listen(listener) {
      onReader = listener;
      for (const [i, reader] of seen) listener(i, reader);
    },
    flush: () => { void flush(); },
    drain: async () => { await flush(); await flush(); }, // the second starts after the library closed
    restore() {
      delete process.env[OUTPUT_PIPES_ENV];
      STREAMS.forEach(({ std: which }, i) => k.setStdHandle(which, std[i]));
      for (const { crt, fd, saved } of moved) {
        if (saved >= 0) {
          crt.dup2(saved, fd);
          crt.close(saved);
        } else {
          crt.close(fd);
        }
      }
      for (const pipe of pipes) {
        pipe.server.close();
        k.closeHandle(pipe.writer); // the readers end once every copy is closed
      }
    },
  };
}

/**
 * In a process-isolation child of a command that captures output ({@link OUTPUT_PIPES_ENV}
 * set): moves this process's C runtimes and std handles onto the command's pipes, and
 * writes out what they buffer every {@link FLUSH_EVERY_MS} ms. Nothing otherwise.
 */
export function followWindowsOutput(): void {
  const base = process.env[OUTPUT_PIPES_ENV];
  if (base === undefined || base === '') return;
  const k = kernel32();
  const writers = STREAMS.map((_s, i) => k.createFile(`${base}-${i}`, GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null));
  if (writers.some((w) => w === null || koffi.address(w) === INVALID_HANDLE)) {
    for (const w of writers) if (w !== null && koffi.address(w) !== INVALID_HANDLE) k.closeHandle(w);
    return; // the command is gone, or never listened: the output stays where it was
  }
  const crts = CRT_DLLS.map(loadCrt);
  moveOutput(crts, writers);
  const flush = flusher(crts);
  setInterval(() => void flush(), FLUSH_EVERY_MS).unref();
}
