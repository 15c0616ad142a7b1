import { closeSync, readSync, writeSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { Deadline } from './blocking-wait.js';
import { IsoswapError } from '../errors.js';
import { libcFunctions, O_CLOEXEC } from '../library/libc.js';
import { isMark, type SyncReply } from '../wire/protocol.js';
import { platform } from '../platform/platform.js';
import { LIVENESS_MS } from './blocking-wait.js';
import { NamedSyncPipes } from './named-sync-pipes.js';

/** The fds the child sees its ends of the pipes as: after stdin, stdout, stderr and IPC. */
export const CHILD_REQUEST_FD = 4;
export const CHILD_REPLY_FD = 5;

const POLLIN = 0x1;
const POLLOUT = 0x4;
/** The host's end of the request pipe never blocks: a long request is written as the child
 *  reads it, each wait bounded by the call's deadline. */
const O_NONBLOCK = 0o4000;

/**
 * A 4-byte little-endian length, then the v8-serialized payload (bigint, typed arrays
 * cross as over the IPC channel's 'advanced' serialization).
 */
export function frame(payload: unknown): Buffer {
  const body = serialize(payload);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

/**
 * The blocking call path to one child process (`host.callSync` in process isolation):
 * two plain pipes made with libc, handed to `fork` as the child's fds 4 and 5. The host
 * writes a request frame and blocks in read() on the reply pipe; EOF there means the
 * child died (the host's 'exit' event cannot arrive while it blocks). The IPC channel
 * cannot do this: its replies need the host's event loop.
 */
export class ProcessSyncCall {
  /** The child's ends, for fork's stdio array; {@link closeChildEnds} once forked. */
  readonly childFds: readonly number[];
  /** What the child is told instead (Windows: the base name of its named pipes). */
  readonly childEnv: Readonly<Record<string, string>> = {};
  /** Windows: the named pipes and event that stand for the two fds. */
  readonly #named: NamedSyncPipes | null = null;
  #requestFd: number;
  #replyFd: number;
  /** Set when the pipe can no longer be trusted: the child died, or a reply is owed. */
  #broken: IsoswapError | null = null;

  /**
   * @param label names the child in errors
   * @param onEof called when the child is found dead (EOF, EPIPE); returns the error to
   *   throw, so that the child's handle can record the death at once
   * @param posted called after each request written (a child blocked on its ring must be
   *   nudged: its event loop reads the pipe)
   */
  constructor(private readonly label: () => string, private readonly onEof?: () => IsoswapError, private readonly posted: () => void = () => {}) {
    if (!platform().inheritedChannels) {
      this.childFds = [];
      this.#requestFd = this.#replyFd = -1;
      this.#named = platform().namedChannels ? NamedSyncPipes.create() : null;
      if (this.#named !== null) {
        this.childEnv = this.#named.childEnv;
        return;
      }
      // No pipes there: process isolation serves on, without its blocking form.
      this.#broken = new IsoswapError('ERR_UNSUPPORTED_PLATFORM', `callSync in process isolation has no blocking pipes on ${platform().name}`);
      return;
    }
    const { pipe2 } = libcFunctions();
    const request = new Int32Array(2);
    const reply = new Int32Array(2);
    // O_CLOEXEC: pipe() fds are inherited by every later exec; libuv passes only what the
    // stdio array names, so another child (a standby) would hold this child's write end,
    // and the host would never read EOF when this child dies.
    if (pipe2(request, O_CLOEXEC | O_NONBLOCK) !== 0) throw new Error('pipe2 failed');
    if (pipe2(reply, O_CLOEXEC) !== 0) {
      closeSync(request[0]!);
      closeSync(request[1]!);
      throw new Error('pipe2 failed');
    }
    this.childFds = [request[0]!, reply[1]!];
    this.#requestFd = request[1]!;
    this.#replyFd = reply[0]!;
  }

  /** The child's pid, once forked: a blocked host on Windows looks whether it still runs. */
  set child(pid: number) {
    if (this.#named !== null) this.#named.child = pid;
  }

  /** The host must not hold the child's ends: else it never reads EOF when the child dies. */
  closeChildEnds(): void {
    for (const fd of this.childFds) closeQuietly(fd);
  }

  /**
   * Sends the call and blocks until the reply; throws what the child threw,
   * ERR_VERSION_CRASHED when it dies first, ERR_CALL_TIMEOUT after `timeoutMs` (0: none).
   */
  call(name: string, args: unknown[], timeoutMs = 0): unknown {
    if (this.#broken !== null) throw this.#broken;
    let request: Buffer;
    try {
      request = frame({ name, args });
    } catch (err) {
      throw new IsoswapError('ERR_BAD_ARGUMENTS', `bad arguments for ${name}: ${(err as Error).message}`, { function: name }, { cause: err });
    }
    const deadline = new Deadline(name, timeoutMs);
    try {
      this.#write(request, deadline);
      let reply: SyncReply;
      do reply = this.#next(timeoutMs > 0 && deadline, name); while (isMark(reply)); // a mark a drain gave up on
      if (reply.ok) return reply.value;
      throw IsoswapError.from(reply.error, 'ERR_BAD_ARGUMENTS', name);
    } catch (err) {
      if (err instanceof IsoswapError && err.code !== 'ERR_CALL_TIMEOUT' && err.code !== 'ERR_VERSION_CRASHED') throw err;
      // A timed-out call's reply may still come: the next call would read it as its own.
      // Anything else is the pipe failing (EPIPE: the child is gone).
      this.#broken = err instanceof IsoswapError ? err : this.onEof?.() ?? this.#crashed(name, err);
      throw this.#broken;
    }
  }

  /** Writes `payload` as a frame on the request pipe without waiting for an answer: a
   *  host callback's answer to a child blocked reading it (src/runtime/addon-callbacks.ts). */
  send(payload: unknown): void {
    if (this.#broken !== null) return; // the child is gone: nobody waits
    this.#write(frame(payload), new Deadline('a callback answer', 0));
  }

  /** Blocks until the child answers mark `seq` (sent over IPC, behind the calls in
   *  flight); throws ERR_CALL_TIMEOUT at `deadline`, ERR_VERSION_CRASHED if it dies. */
  awaitMark(seq: number, deadline: Deadline): void {
    if (this.#broken !== null) throw this.#broken;
    try {
      for (;;) {
        const reply = this.#next(deadline, 'a drain');
        if (isMark(reply) && reply.value.isoswapMark === seq) return;
      }
    } catch (err) {
      if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') this.#broken = IsoswapError.from(err, 'ERR_VERSION_CRASHED', 'a drain');
      throw err; // past the deadline the mark's answer may still come: readers skip it
    }
  }

  #next(deadline: Deadline | false, name: string): SyncReply {
    const length = this.#read(4, deadline, name).readUInt32LE(0);
    return deserialize(this.#read(length, deadline, name)) as SyncReply;
  }

  /** Closes the host's ends: after the child ended, so that no fd leaks over many swaps. */
  close(death?: IsoswapError): void {
    this.#broken ??= death ?? new IsoswapError('ERR_VERSION_CRASHED', `${this.label()} has ended`, {});
    if (this.#requestFd >= 0) closeQuietly(this.#requestFd);
    if (this.#replyFd >= 0) closeQuietly(this.#replyFd);
    this.#requestFd = this.#replyFd = -1;
    this.#named?.close(); // never touch a closed number again: it may be reused
  }

  /** Writes the whole frame, waiting in poll() while the pipe is full (the child reads
   *  it on its event loop); ERR_CALL_TIMEOUT once the deadline passes. */
  #write(bytes: Buffer, deadline: Deadline): void {
    if (this.#named !== null) return this.#writeNamed(this.#named, bytes, deadline);
    const polled = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
    for (let sent = 0; sent < bytes.length;) {
      try {
        sent += writeSync(this.#requestFd, bytes, sent);
        this.posted(); // each chunk: a child blocked on its ring reads only once nudged
        continue;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      polled.writeInt32LE(this.#requestFd, 0);
      polled.writeInt16LE(POLLOUT, 4);
      libcFunctions().poll(polled, 1, Math.ceil(deadline.sliceMs())); // sliceMs throws once past the end
    }
  }

  /** Reads exactly `bytes`; with a deadline, poll() bounds each wait. */
  #read(bytes: number, deadline: Deadline | false, name: string): Buffer {
    if (this.#named !== null) return this.#readNamed(this.#named, bytes, deadline, name);
    const out = Buffer.alloc(bytes);
    let got = 0;
    const polled = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
    while (got < bytes) {
      if (deadline !== false) {
        polled.writeInt32LE(this.#replyFd, 0);
        polled.writeInt16LE(POLLIN, 4);
        // 0: nothing yet, -1: EINTR; sliceMs throws ERR_CALL_TIMEOUT once past the end.
        if (libcFunctions().poll(polled, 1, Math.ceil(deadline.sliceMs())) <= 0) continue;
      }
      const n = readSync(this.#replyFd, out, got, bytes - got, null);
      if (n === 0) throw this.onEof?.() ?? this.#crashed(name);
      got += n;
    }
    return out;
  }

  #writeNamed(pipes: NamedSyncPipes, bytes: Buffer, deadline: Deadline): void {
    for (let sent = 0; sent < bytes.length;) {
      const n = pipes.writeSome(bytes, sent, deadline.sliceMs()); // sliceMs throws once past the end
      if (n < 0) throw Object.assign(new Error('the child is gone'), { code: 'EPIPE' });
      sent += n;
      this.posted(); // a child blocked on its ring reads only once nudged
    }
  }

  #readNamed(pipes: NamedSyncPipes, bytes: number, deadline: Deadline | false, name: string): Buffer {
    const out = Buffer.alloc(bytes);
    for (let got = 0; got < bytes;) {
      const n = pipes.read(out.subarray(got), deadline === false ? LIVENESS_MS : deadline.sliceMs());
      if (n < 0) throw this.onEof?.() ?? this.#crashed(name);
      got += n;
    }
    return out;
  }

  #crashed(name: string, cause?: unknown): IsoswapError {
    return new IsoswapError('ERR_VERSION_CRASHED', `${this.label()} died during callSync of ${name}`, { function: name }, { cause });
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
