import type { Socket } from 'node:net';
import type { IsoswapError } from '../errors.js';
import { processState, type HostPipe, type NamedEvent } from '../platform/named-objects.js';
import { napSync } from '../platform/nap.js';
import type { RingSideChannel } from './ring-codec.js';
import {
  DONE, HEAD, HOST_WAITING, WAKE, WORKER_BLOCKED, WORKER_EXITED, WORKER_PARKED, WORKER_RUNNING, WORKER_STATE, WORKER_STOPPED, WORKER_TID,
  type RingHeader,
} from './ring-layout.js';
import { frame, readFrame, writeSpilled } from './process-ring-signals.js';
import { claimWake, HOST_ASLEEP, HOST_BLOCKED, hostWaits, nudgeWorker, type HostSignals, type WorkerSignals } from './ring-signals.js';

/** How long a host reading a spilled result naps between looks at the pipe. */
const SPILL_NAP_MS = 1;

/**
 * A doorbell: one byte written without waiting and outside Node's streams (a stream
 * write is finished by the writer's event loop, which a host blocked in callSync does
 * not run: a second ring would wait behind the first), read by the other side's event
 * loop (`listen`: a net socket on the named pipe, `onRing` on each batch of bytes).
 */
export interface Doorbell {
  ring(): void;
}

/**
 * Listens on `socket` (the reading end of a doorbell pipe) on this event loop.
 */
export function listenBell(socket: Socket, onRing: () => void): Socket {
  socket.unref();
  socket.on('error', () => {}); // the other side is gone: its exit is seen elsewhere
  socket.on('data', onRing);
  return socket;
}

/**
 * Process isolation on Windows, host end: the ring is a named file mapping both processes
 * map. The host's event loop sleeps on the doorbell (a named pipe) the child rings; a host
 * blocked in callSync waits on the `done` event in slices, looking between them whether the
 * child still runs; the child, blocked, waits on the `wake` event. Where Linux waits in a
 * futex on the word itself, here the word is read again after each wait: an auto-reset
 * event set before anyone waits stays set, so no wake-up is lost. Long string results
 * come on a named pipe (the side channel).
 */
export class NamedHostSignals implements HostSignals {
  #woken: (() => void) | null = null;
  readonly side: RingSideChannel;

  constructor(
    private readonly events: { done: NamedEvent; wake: NamedEvent }, private readonly bell: Doorbell, spill: HostPipe,
    private readonly death: () => IsoswapError,
  ) {
    this.side = { shares: false, post() {}, receive: () => readFrame((bytes) => readExactly(spill, bytes)) };
  }

  /** The doorbell rang (data on the pipe). */
  readonly rang = (): void => {
    const woken = this.#woken;
    this.#woken = null;
    woken?.();
  };

  wakeWorker(ring: RingHeader): boolean {
    return claimWake(ring, (kind) => {
      if (kind === WORKER_BLOCKED) this.events.wake.set();
      else this.bell.ring();
    });
  }

  nudge(ring: RingHeader): void {
    nudgeWorker(ring, () => this.events.wake.set());
  }

  sleep({ header }: RingHeader, seen: number, woken: () => void): void {
    this.#woken = woken;
    Atomics.exchange(header, HOST_WAITING, HOST_ASLEEP); // a full barrier before DONE is read
    if (Atomics.load(header, DONE) !== seen) {
      this.#woken = null;
      woken();
    }
  }

  block({ header }: RingHeader, seen: number, sliceMs: number): void {
    Atomics.exchange(header, HOST_WAITING, HOST_BLOCKED);
    if (Atomics.load(header, DONE) === seen) this.events.done.wait(sliceMs);
  }

  workerAlive({ header }: RingHeader): boolean {
    const state = Atomics.load(header, WORKER_STATE);
    const pid = Atomics.load(header, WORKER_TID);
    return state !== WORKER_EXITED && state !== WORKER_STOPPED && (pid === 0 || processState(pid).runs);
  }

  deathError(): IsoswapError {
    return this.death();
  }

  close(): void {
    this.#woken = null;
  }
}

/**
 * Process isolation on Windows, child end.
 */
export class NamedWorkerSignals implements WorkerSignals {
  readonly id = process.pid;
  #woken: (() => void) | null = null;
  /** Framed when posted (process-ring-signals.ts frame). */
  #spilled: Buffer[] = [];
  readonly side: RingSideChannel = { shares: false, post: (message) => { this.#spilled.push(frame(message)); }, receive: () => undefined };

  /**
   * @param spillFd the child's end of the spill pipe (opened with fs: written blocking)
   */
  /** The host's doorbell is read by this event loop once connected: no parking before. */
  connected = false;

  constructor(private readonly events: { done: NamedEvent; wake: NamedEvent }, private readonly bell: Doorbell, private readonly spillFd: number) {}

  /** The doorbell rang. */
  readonly rang = (): void => {
    const woken = this.#woken;
    this.#woken = null;
    woken?.();
  };

  park({ header }: RingHeader, seen: number, woken: () => void): boolean {
    if (!this.connected) return false; // a ring now would be lost: serve on, the loop turns
    this.#woken = woken;
    Atomics.exchange(header, WORKER_STATE, WORKER_PARKED);
    if (Atomics.load(header, HEAD) === seen) return true;
    this.#woken = null;
    Atomics.store(header, WORKER_STATE, WORKER_RUNNING);
    return false;
  }

  waitWake({ header }: RingHeader, wake: number, sliceMs: number): void {
    // A bump of WAKE since blockWorker read it also set the event: the wait would return
    // at once; looked at first, as a futex does
    if (Atomics.load(header, WAKE) === wake) this.events.wake.wait(sliceMs);
  }

  notifyHost(ring: RingHeader): void {
    const { header } = ring;
    const waiting = hostWaits(ring);
    if (waiting === HOST_BLOCKED) this.events.done.set();
    else if (waiting === HOST_ASLEEP && Atomics.compareExchange(header, HOST_WAITING, HOST_ASLEEP, 0) === HOST_ASLEEP) this.bell.ring();
    if (this.#spilled.length > 0) writeSpilled(this.spillFd, this.#spilled.splice(0));
  }

  ended({ header }: RingHeader, state: number): void {
    this.#woken = null;
    Atomics.store(header, WORKER_STATE, state);
    this.events.done.set();
  }
}

/** `bytes` from the spill pipe (the child writes a frame right after DONE), or null once
 *  the child is gone. */
function readExactly(pipe: HostPipe, bytes: number): Buffer | null {
  const out = Buffer.alloc(bytes);
  for (let got = 0; got < bytes;) {
    const ready = pipe.available();
    if (ready < 0) return null;
    if (ready === 0) {
      napSync(SPILL_NAP_MS);
      continue;
    }
    got += pipe.read(out.subarray(got, got + Math.min(ready, bytes - got)));
  }
  return out;
}
