import { createWriteStream, fstatSync, readlinkSync } from 'node:fs';
import { once } from 'node:events';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isatty, WriteStream as TtyWriteStream } from 'node:tty';
import koffi from 'koffi';
import { libc } from '../library/libc.js';

/** Which of the library's streams a line came from. */
export type OutputStream = 'stdout' | 'stderr';
/** Where the command writes its own output: a terminal, a pipe or a file. */
export type CliStream = Writable & { isTTY?: boolean; columns?: number };

const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const F_DUPFD_CLOEXEC = 1030;
const F_GETFL = 3;
const F_SETFL = 4;
const IOLBF = 1;
/** How long the last lines may take to arrive once the library is closed. */
const DRAIN_MS = 3000;

interface Libc {
  pipe2(fds: Int32Array, flags: number): number;
  dup2(from: number, to: number): number;
  close(fd: number): number;
  fcntl(fd: number, cmd: number, ...rest: unknown[]): number;
  setvbuf(stream: unknown, buf: null, mode: number, size: number): number;
  fflush(stream: null): number;
  stdout: unknown;
}

function loadLibc(): Libc {
  const lib = libc();
  return {
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)') as Libc['pipe2'],
    dup2: lib.func('int dup2(int oldfd, int newfd)') as Libc['dup2'],
    close: lib.func('int close(int fd)') as Libc['close'],
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)') as Libc['fcntl'],
    setvbuf: lib.func('int setvbuf(void *stream, void *buf, int mode, size_t size)') as Libc['setvbuf'],
    fflush: lib.func('int fflush(void *stream)') as Libc['fflush'],
    stdout: koffi.decode(lib.symbol('stdout', 'void *'), 'void *'),
  };
}

/**
 * The library's output, taken off the command's own: fds 1 and 2 of this process become
 * pipes this class reads line by line (child processes inherit them, so process
 * isolation is covered too), and the command writes its own output to copies of the
 * original fds. Each pipe's write end is a blocking description of its own that no
 * Node stream opened: Node sets O_NONBLOCK on the description behind a stream, and a
 * library's printf into a full non-blocking pipe fails with EAGAIN and loses the line.
 *
 * @example
 * const capture = OutputCapture.start(); // null off Linux
 * capture?.listen((stream, lines) => lines.forEach((l) => console.log(stream, l)));
 * ...; await capture?.stop();
 */
export class OutputCapture {
  readonly #readers: Socket[] = [];
  readonly #partial = ['', ''];
  #stopped = false;

  private constructor(
    private readonly c: Libc,
    private readonly saved: [number, number],
    /** The command's own stdout and stderr (the originals). */
    readonly out: CliStream,
    readonly err: CliStream,
    readFds: number[],
  ) {
    this.#readers = readFds.map((fd) => new Socket({ fd, readable: true, writable: false }));
  }

  /**
   * Redirects fds 1 and 2 of this process into pipes; null where libc's pipe2 is missing.
   *
   * @example
   * const capture = OutputCapture.start();
   */
  static start(): OutputCapture | null {
    if (process.platform !== 'linux') return null;
    // Made now, on the originals: a Node stream made later on fd 1 or 2 would be on a pipe.
    void process.stdout;
    void process.stderr;
    const c = loadLibc();
    const saved: [number, number] = [c.fcntl(1, F_DUPFD_CLOEXEC, 'int', 10), c.fcntl(2, F_DUPFD_CLOEXEC, 'int', 10)];
    const readFds = [1, 2].map((target) => {
      const fds = new Int32Array(2);
      if (c.pipe2(fds, O_CLOEXEC) !== 0) throw new Error('pipe2 failed');
      c.dup2(fds[1]!, target); // fd 1 (2) without O_CLOEXEC: child processes inherit it
      c.close(fds[1]!);
      return fds[0]!;
    });
    // Line-buffered, as on a terminal: a line shows when printed, not 4 KiB later.
    c.setvbuf(c.stdout, null, IOLBF, 0);
    return new OutputCapture(c, saved, writer(saved[0]), writer(saved[1]), readFds);
  }

  /** Regular files the command's output is redirected into (`> run.log`): its own writes. */
  get outputFiles(): string[] {
    return this.saved.flatMap((fd) => (fstatSync(fd).isFile() ? [readlinkSync(`/proc/self/fd/${fd}`)] : []));
  }

  /**
   * Starts reading; `onLines` gets each batch of whole lines. Reading pauses while the
   * command's own output is backed up (a slow reader of its stdout).
   *
   * @example
   * capture.listen((stream, lines) => { for (const l of lines) reporter.output(stream, l); });
   */
  listen(onLines: (stream: OutputStream, lines: string[]) => void): void {
    this.#readers.forEach((reader, i) => {
      const stream: OutputStream = i === 0 ? 'stdout' : 'stderr';
      reader.setEncoding('utf8');
      reader.on('data', (chunk: string) => {
        this.#keepBlocking(i + 1);
        const lines = (this.#partial[i] + chunk).split('\n');
        this.#partial[i] = lines.pop()!;
        if (lines.length > 0) onLines(stream, lines);
        this.#backOff();
      });
      reader.on('end', () => {
        if (this.#partial[i] !== '') onLines(stream, [this.#partial[i]!]);
        this.#partial[i] = '';
      });
    });
  }

  /**
   * Flushes this process's C stdio, gives fds 1 and 2 back, and waits (bounded) until
   * the pipes are read to their end. Call once the library is closed.
   *
   * @example
   * await host.close(); await capture.stop();
   */
  async stop(): Promise<void> {
    this.c.fflush(null);
    this.#stopped = true;
    this.c.dup2(this.saved[0], 1);
    this.c.dup2(this.saved[1], 2);
    const ended = Promise.all(this.#readers.map((r) => (r.readableEnded ? null : once(r, 'end'))));
    await Promise.race([ended, sleep(DRAIN_MS, undefined, { ref: false })]);
    for (const reader of this.#readers) reader.destroy();
  }

  /** A child's Node may make a stream on its inherited fd 1 or 2, which sets O_NONBLOCK
   *  on the shared description: clear it again before the pipe can fill. */
  #keepBlocking(fd: number): void {
    if (this.#stopped) return; // fd is the original again
    const flags = this.c.fcntl(fd, F_GETFL, 'int', 0);
    if (flags >= 0 && (flags & O_NONBLOCK) !== 0) this.c.fcntl(fd, F_SETFL, 'int', flags & ~O_NONBLOCK);
  }

  #backOff(): void {
    const backedUp = [this.out, this.err].filter((s) => s.writableNeedDrain === true);
    if (backedUp.length === 0) return;
    for (const reader of this.#readers) reader.pause();
    void Promise.all(backedUp.map((s) => once(s, 'drain'))).then(() => { for (const reader of this.#readers) reader.resume(); });
  }
}

/** A stream over one of the original fds, of the kind Node would make for it. */
function writer(fd: number): CliStream {
  if (isatty(fd)) return new TtyWriteStream(fd);
  const stat = fstatSync(fd);
  if (stat.isFIFO() || stat.isSocket()) return new Socket({ fd, readable: false, writable: true });
  return createWriteStream('', { fd });
}
