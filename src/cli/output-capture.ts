import { createWriteStream, fstatSync, readlinkSync } from 'node:fs';
import { once } from 'node:events';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isatty, WriteStream as TtyWriteStream } from 'node:tty';
import { IsoswapError } from '../errors.js';
import { libcFunctions, O_CLOEXEC } from '../library/libc.js';
import { FLUSH_STDOUT_ENV, tryFlushStdout } from '../library/stdout-flush.js';
import { platform } from '../platform/platform.js';

/** Which of the library's streams a line came from. */
export type OutputStream = 'stdout' | 'stderr';
/** Where the command writes its own output: a terminal, a pipe or a file. */
export type CliStream = Writable & { isTTY?: boolean; columns?: number };

const O_NONBLOCK = 0o4000;
const F_DUPFD_CLOEXEC = 1030;
const F_GETFL = 3;
const F_SETFL = 4;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const FIONREAD = 0x541b;
/** More than C stdio ever holds for a pipe (st_blksize, 4 KiB) before it writes. */
const STDIO_BUFFER_MAX = 64 * 1024;
/** Room for a burst of lines before the library's printf waits for the reader. */
const PIPE_BYTES = 1 << 20;
/** How soon a line printed into C stdio's buffer (a pipe is block-buffered) is shown. */
const FLUSH_EVERY_MS = 50;
/** How long the last lines may take to arrive once the library is closed. */
const DRAIN_MS = 3000;

/** Where the library's output is moved to, and how it is given back: per system. */
interface Redirect {
  listen(onReader: (index: 0 | 1, reader: Readable) => void): void;
  /** The command's own stdout and stderr (the originals). */
  readonly out: CliStream;
  readonly err: CliStream;
  readonly outputFiles: string[];
  flush(): void;
  drain(): Promise<void>;
  restore(): void;
  /** Called as stream `index` (0 stdout, 1 stderr) is read. */
  reading(index: number): void;
}

/**
 * The library's output, taken off the command's own, as lines. On Linux fds 1 and 2 of
 * this process become pipes this class reads (child processes inherit them, so process
 * isolation is covered too), and the command writes its own output to copies of the
 * original fds. Each pipe's write end is a blocking description of its own that no
 * Node stream opened: Node sets O_NONBLOCK on the description behind a stream, and a
 * library's printf into a full non-blocking pipe fails with EAGAIN and loses the line.
 * Elsewhere the platform moves what it can (`redirectOutput`, docs/platforms.md).
 */
export class OutputCapture {
  readonly #readers: Readable[] = [];
  readonly #flusher: NodeJS.Timeout;

  private constructor(private readonly redirect: Redirect) {
    this.#flusher = setInterval(() => redirect.flush(), FLUSH_EVERY_MS).unref();
  }

  /** The command's own stdout and stderr (the originals). */
  get out(): CliStream { return this.redirect.out; }
  get err(): CliStream { return this.redirect.err; }

  /**
   * Moves the library's output onto pipes; null where this system cannot.
   */
  static async start(): Promise<OutputCapture | null> {
    const moved = platform().redirectOutput();
    if (moved !== null) {
      const r = await moved;
      return new OutputCapture({ ...r, out: process.stdout, err: process.stderr, outputFiles: [], reading: () => {} });
    }
    return platform().inheritedChannels ? new OutputCapture(linuxPipes()) : null;
  }

  /** Regular files the command's output is redirected into (`> run.log`): its own writes. */
  get outputFiles(): string[] {
    return this.redirect.outputFiles;
  }

  /**
   * Starts reading; `onLines` gets each batch of whole lines. Reading pauses while the
   * command's own output is backed up (a slow reader of its stdout).
   */
  listen(onLines: (stream: OutputStream, lines: string[]) => void): void {
    this.redirect.listen((i, reader) => {
      this.#readers.push(reader);
      const stream: OutputStream = i === 0 ? 'stdout' : 'stderr';
      let partial = '';
      reader.setEncoding('utf8');
      reader.on('data', (chunk: string) => {
        this.redirect.reading(i);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        if (lines.length > 0) onLines(stream, lines);
        this.#backOff();
      });
      reader.on('end', () => {
        if (partial !== '') onLines(stream, [partial]);
        partial = '';
      });
    });
  }

  /**
   * Writes out what the library left in C stdio's buffers, gives the outputs back, and
   * waits (bounded) until the pipes are read to their end. Call once the library is closed.
   */
  async stop(): Promise<void> {
    clearInterval(this.#flusher);
    await Promise.race([this.redirect.drain(), sleep(DRAIN_MS, undefined, { ref: false })]);
    this.redirect.restore();
    const readers = this.#readers;
    const ended = Promise.all(readers.filter((r) => !r.readableEnded).map((r) => once(r, 'end')));
    await Promise.race([ended, sleep(DRAIN_MS, undefined, { ref: false })]);
    for (const reader of readers) reader.destroy();
  }

  #backOff(): void {
    const backedUp = [this.out, this.err].filter((s) => s.writableNeedDrain === true);
    if (backedUp.length === 0) return;
    for (const reader of this.#readers) reader.pause();
    void Promise.all(backedUp.map((s) => once(s, 'drain'))).then(() => { for (const reader of this.#readers) reader.resume(); });
  }
}

/** Linux: fds 1 and 2 of this process made pipes (libc's pipe2 and dup2). */
function linuxPipes(): Redirect {
  // Made now, on the originals: a Node stream made later on fd 1 or 2 would be on a pipe.
  void process.stdout;
  void process.stderr;
  const c = libcFunctions();
  const saved: [number, number] = [c.fcntl(1, F_DUPFD_CLOEXEC, 'int', 10), c.fcntl(2, F_DUPFD_CLOEXEC, 'int', 10)];
  const readFds = [1, 2].map((target) => {
    const fds = new Int32Array(2);
    if (c.pipe2(fds, O_CLOEXEC) !== 0) throw new IsoswapError('ERR_OUTPUT_CAPTURE', 'isoswap run: pipe2 failed, the library\'s output cannot be captured');
    c.fcntl(fds[1]!, F_SETPIPE_SZ, 'int', PIPE_BYTES); // may be refused (a lower limit): 64 KiB then
    c.dup2(fds[1]!, target); // fd 1 (2) without O_CLOEXEC: child processes inherit it
    c.close(fds[1]!);
    return fds[0]!;
  });
  process.env[FLUSH_STDOUT_ENV] = String(FLUSH_EVERY_MS); // process isolation's children flush too
  const stdoutPipe = readFds[0]!;
  let stopped = false;
  /** Writes out what the library's threads left in this process's stdout buffer: block
   *  buffering (4 KiB writes, not one per line) keeps a chatty library cheap, this
   *  keeps a line from waiting for the next 4 KiB. This thread is the pipe's reader, so it
   *  must never block on it: only when no thread holds the stream (one blocked in printf
   *  on a full pipe does) and the pipe has room for what the buffer can hold. False when
   *  it could not flush now. */
  const flush = (): boolean => tryFlushStdout(() => {
    const queued = new Int32Array(1);
    const room = c.fcntl(stdoutPipe, F_GETPIPE_SZ, 'int', 0) - (c.ioctl(stdoutPipe, FIONREAD, 'int *', queued) === 0 ? queued[0]! : Infinity);
    return room >= STDIO_BUFFER_MAX;
  });
  const readers = readFds.map((fd) => new Socket({ fd, readable: true, writable: false }));
  return {
    listen: (onReader) => readers.forEach((reader, i) => onReader(i as 0 | 1, reader)),
    out: writer(saved[0]),
    err: writer(saved[1]),
    get outputFiles() {
      return saved.flatMap((fd) => (fstatSync(fd).isFile() ? [readlinkSync(`/proc/self/fd/${fd}`)] : []));
    },
    flush: () => { flush(); },
    async drain() {
      for (const deadline = performance.now() + DRAIN_MS; !flush() && performance.now() < deadline;) await sleep(10);
    },
    restore() {
      stopped = true;
      c.dup2(saved[0], 1);
      c.dup2(saved[1], 2);
    },
    /** A child's Node may make a stream on its inherited fd 1 or 2, which sets O_NONBLOCK
     *  on the shared description: clear it again before the pipe can fill. */
    reading(index) {
      if (stopped) return; // the fd is the original again
      const fd = index + 1;
      const flags = c.fcntl(fd, F_GETFL, 'int', 0);
      if (flags >= 0 && (flags & O_NONBLOCK) !== 0) c.fcntl(fd, F_SETFL, 'int', flags & ~O_NONBLOCK);
    },
  };
}

/** A stream over one of the original fds, of the kind Node would make for it. */
function writer(fd: number): CliStream {
  if (isatty(fd)) return new TtyWriteStream(fd);
  const stat = fstatSync(fd);
  if (stat.isFIFO() || stat.isSocket()) return new Socket({ fd, readable: false, writable: true });
  return createWriteStream('', { fd });
}
