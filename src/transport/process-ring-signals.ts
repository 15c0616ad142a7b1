import { readFileSync, readSync, writeSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import type { IsoswapError } from '../errors.js';
import type { RingSideChannel } from './ring-codec.js';
import {
  DONE, HEAD, HOST_WAITING, WAKE, WORKER_BLOCKED, WORKER_EXITED, WORKER_PARKED, WORKER_RUNNING, WORKER_STATE, WORKER_STOPPED,
  WORKER_TID, type RingHeader,
} from './ring-layout.js';
import { claimWake, HOST_ASLEEP, HOST_BLOCKED, hostWaits, nudgeWorker, type HostSignals, type WorkerSignals } from './ring-signals.js';
import { listenDoorbell, ringDoorbell } from './doorbell.js';
import { futexWait, futexWake } from './futex.js';
import type { Socket } from 'node:net';

/** Byte offset of DONE in the ring: the word a blocked host sleeps on. */
const DONE_BYTES = DONE * 4;
/** Byte offset of WAKE: the word a blocked child sleeps on. */
const WAKE_BYTES = WAKE * 4;

/**
 * Process isolation, host end: the ring is a memfd both processes map. The host's event
 * loop sleeps on a doorbell pipe the child rings (one byte per sleep, only when
 * HOST_WAITING says so); a host blocked in callSync sleeps in a futex on DONE, in slices,
 * looking between them whether the child still runs (/proc: a dead child stays a zombie
 * while the host blocks, as Node reaps only on its event loop). A child blocked in a
 * futex on WAKE is woken by a futex wake; one parked on its event loop by its doorbell.
 *
 * The side channel (ring-codec.ts) is a blocking pipe: a string result longer than the
 * room reserved for it comes as a frame the child writes right after publishing DONE,
 * and the host reads it as it collects that call. Shared buffers cannot be sent to
 * another process: views over them are copied.
 */
export class ProcessHostSignals implements HostSignals {
  #woken: (() => void) | null = null;
  readonly #bell: Socket;
  readonly side: RingSideChannel;

  /**
   * @param address the mapping's address (futex)
   * @param hostBellFd read end of the pipe the child rings
   * @param workerBellFd write end of the pipe that wakes the child
   * @param spillFd read end of the blocking pipe long string results come on
   * @param death the error of a child found dead (its handle records the death)
   */
  constructor(
    private readonly address: number, hostBellFd: number, private readonly workerBellFd: number, spillFd: number,
    private readonly death: () => IsoswapError,
  ) {
    this.side = { shares: false, post() {}, receive: () => readFrame((bytes) => readExactly(spillFd, bytes)) };
    this.#bell = listenDoorbell(hostBellFd, () => {
      const woken = this.#woken;
      this.#woken = null;
      woken?.();
    });
  }

  wakeWorker(ring: RingHeader): boolean {
    // One wake per sleep (claimWake's compare-exchange): a shared futex wake or a pipe
    // write costs a syscall even when nobody waits.
    return claimWake(ring, (kind) => {
      if (kind === WORKER_BLOCKED) futexWake(this.address + WAKE_BYTES);
      else ringDoorbell(this.workerBellFd);
    });
  }

  nudge(ring: RingHeader): void {
    nudgeWorker(ring, () => futexWake(this.address + WAKE_BYTES));
  }

  sleep({ header }: RingHeader, seen: number, woken: () => void): void {
    this.#woken = woken;
    // An exchange, not a store: a full barrier before DONE is read, as the child stores
    // DONE before it reads HOST_WAITING (one of the two sees the other).
    Atomics.exchange(header, HOST_WAITING, HOST_ASLEEP);
    if (Atomics.load(header, DONE) !== seen) {
      this.#woken = null;
      woken();
    }
  }

  block({ header }: RingHeader, seen: number, sliceMs: number): void {
    Atomics.exchange(header, HOST_WAITING, HOST_BLOCKED);
    futexWait(this.address + DONE_BYTES, seen, sliceMs);
  }

  workerAlive({ header }: RingHeader): boolean {
    const state = Atomics.load(header, WORKER_STATE);
    return state !== WORKER_EXITED && state !== WORKER_STOPPED && processRuns(Atomics.load(header, WORKER_TID));
  }

  deathError(): IsoswapError {
    return this.death();
  }

  /** Closes the host's doorbell fds (after the child ended). */
  close(): void {
    this.#woken = null;
    this.#bell.destroy();
  }
}

/**
 * Process isolation, child end.
 */
export class ProcessWorkerSignals implements WorkerSignals {
  readonly id = process.pid;
  #woken: (() => void) | null = null;
  /** Long results (and a tagged call's errors), framed when posted (a value v8 cannot
   *  serialize throws to the poster, which answers with that error), written to the spill
   *  pipe once their DONE is published. */
  #spilled: Buffer[] = [];
  readonly side: RingSideChannel = { shares: false, post: (message) => { this.#spilled.push(frame(message)); }, receive: () => undefined };

  /**
   * @param address the mapping's address (futex)
   * @param workerBellFd read end of the pipe the host rings
   * @param hostBellFd write end of the pipe that wakes the host
   * @param spillFd write end of the blocking pipe for long string results
   */
  constructor(private readonly address: number, workerBellFd: number, private readonly hostBellFd: number, private readonly spillFd: number) {
    listenDoorbell(workerBellFd, () => {
      const woken = this.#woken;
      this.#woken = null;
      woken?.();
    });
  }

  park({ header }: RingHeader, seen: number, woken: () => void): boolean {
    this.#woken = woken;
    Atomics.exchange(header, WORKER_STATE, WORKER_PARKED); // a barrier before HEAD is read
    if (Atomics.load(header, HEAD) === seen) return true;
    this.#woken = null;
    Atomics.store(header, WORKER_STATE, WORKER_RUNNING);
    return false;
  }

  waitWake(_ring: RingHeader, wake: number, sliceMs: number): void {
    futexWait(this.address + WAKE_BYTES, wake, sliceMs);
  }

  notifyHost(ring: RingHeader): void {
    const { header } = ring;
    const waiting = hostWaits(ring);
    if (waiting === HOST_BLOCKED) futexWake(this.address + DONE_BYTES);
    else if (waiting === HOST_ASLEEP && Atomics.compareExchange(header, HOST_WAITING, HOST_ASLEEP, 0) === HOST_ASLEEP) ringDoorbell(this.hostBellFd);
    // After DONE and after the wake: a frame longer than the pipe holds (64 KiB) blocks
    // this write until the host reads it, which a host still asleep never does.
    if (this.#spilled.length > 0) writeSpilled(this.spillFd, this.#spilled.splice(0));
  }

  ended({ header }: RingHeader, state: number): void {
    this.#woken = null;
    Atomics.store(header, WORKER_STATE, state);
    futexWake(this.address + DONE_BYTES);
  }
}

const FRAME_TEXT = 0;
/** Any other message, as the IPC channel's advanced serialization carries it (v8). */
const FRAME_VALUE = 1;
/** A frame's head: a 4-byte little-endian length, then its kind. */
export const FRAME_HEAD_BYTES = 5;

/**
 * A message for the spill pipe (both process rings): its head, then a string's UTF-8 bytes,
 * else its v8 serialization (which throws, to the poster, for a value v8 cannot carry).
 */
export function frame(message: unknown): Buffer {
  const text = typeof message === 'string';
  const body = text ? Buffer.from(message, 'utf8') : serialize(message);
  const head = Buffer.alloc(FRAME_HEAD_BYTES);
  head.writeUInt32LE(body.length);
  head[4] = text ? FRAME_TEXT : FRAME_VALUE;
  return Buffer.concat([head, body]);
}

/** The message in a frame's `body`, as its `head` says. */
export function unframe(head: Buffer, body: Buffer): unknown {
  return head[4] === FRAME_TEXT ? body.toString('utf8') : deserialize(body);
}

/**
 * Writes framed messages to the side channel's blocking pipe; a host that is gone (EPIPE)
 * is ignored.
 */
export function writeSpilled(fd: number, frames: readonly Buffer[]): void {
  try {
    for (const bytes of frames) for (let sent = 0; sent < bytes.length;) sent += writeSync(fd, bytes, sent);
  } catch {
    // EPIPE: the host is gone
  }
}

/** The next frame through `readExactly` (a pipe's reader: null once the child is gone),
 *  or undefined when the child went before the whole frame came (both process rings). */
export function readFrame(readExactly: (bytes: number) => Buffer | null): unknown {
  const head = readExactly(FRAME_HEAD_BYTES);
  const body = head === null ? null : readExactly(head.readUInt32LE(0));
  return body === null ? undefined : unframe(head!, body);
}

/** `bytes` from blocking pipe `fd`, or null at EOF (the child died). */
function readExactly(fd: number, bytes: number): Buffer | null {
  const out = Buffer.alloc(bytes);
  for (let got = 0; got < bytes;) {
    const n = readSync(fd, out, got, bytes - got, null);
    if (n === 0) return null;
    got += n;
  }
  return out;
}

/** Whether process `pid` runs: neither gone nor a zombie. */
function processRuns(pid: number): boolean {
  if (pid === 0) return true; // a ring exists only where /proc does (platform().inheritedChannels)
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
