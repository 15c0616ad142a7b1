import { IsoswapError } from '../errors.js';
import { DONE, HEAD, HOST_WAITING, WORKER_EXITED, WORKER_PARKED, WORKER_RUNNING, WORKER_STATE, WORKER_STOPPED, WORKER_TID } from './ring-layout.js';
import { threadAlive } from './thread-alive.js';
import { waitAsync } from './wait-async.js';

/** HOST_WAITING: the host sleeps on its event loop (thread: Atomics.waitAsync). */
export const HOST_ASLEEP = 1;
/** HOST_WAITING: the host's thread is blocked in callSync (thread: Atomics.wait). */
export const HOST_BLOCKED = 2;

/**
 * How the host end of a ring sleeps and wakes the worker: the ring's words are the same in
 * both isolations, only waiting differs. A worker thread shares a SharedArrayBuffer
 * (Atomics.wait/waitAsync/notify); a child process shares a memfd mapping, where
 * Atomics.wait throws and notify wakes nobody (process-ring-signals.ts).
 */
export interface HostSignals {
  /** After publishing requests: wakes the worker if it parked. */
  wakeWorker(header: Int32Array): void;
  /** Without blocking, waits until DONE leaves `seen`, then calls `woken` (at most once
   *  per sleep; a spurious call is harmless). HOST_WAITING is HOST_ASLEEP meanwhile. */
  sleep(header: Int32Array, seen: number, woken: () => void): void;
  /** Blocks this thread until DONE may have left `seen`, or `sliceMs` passed.
   *  HOST_WAITING is HOST_BLOCKED meanwhile. */
  block(header: Int32Array, seen: number, sliceMs: number): void;
  /** For a blocked host, which cannot receive exit events: whether the worker runs. */
  workerAlive(header: Int32Array): boolean;
  /** The error for a worker {@link workerAlive} found gone. */
  deathError(): IsoswapError;
}

/** The worker end: parking until the host publishes, and telling the host of results. */
export interface WorkerSignals {
  /** What the worker writes in WORKER_TID, for {@link HostSignals.workerAlive}. */
  readonly id: number;
  /** Parks until HEAD leaves `seen` and calls `woken` then; false (not parked) when it
   *  already has. WORKER_STATE is WORKER_PARKED meanwhile. */
  park(header: Int32Array, seen: number, woken: () => void): boolean;
  /** After storing DONE: wakes the host if it said it waits. */
  notifyHost(header: Int32Array): void;
  /** The worker stops serving (`state` WORKER_STOPPED) or its thread exits
   *  (WORKER_EXITED): a parked wait must go, a blocked host must look. */
  ended(header: Int32Array, state: number): void;
}

/**
 * Thread isolation: the ring is a SharedArrayBuffer.
 *
 * @example
 * const channel = new CallChannel(label, createChannelBuffer(), threadHostSignals(label));
 */
export function threadHostSignals(label: () => string): HostSignals {
  return {
    wakeWorker(header) {
      if (Atomics.load(header, WORKER_STATE) === WORKER_PARKED) Atomics.notify(header, HEAD);
    },
    sleep(header, seen, woken) {
      Atomics.store(header, HOST_WAITING, HOST_ASLEEP);
      const waited = waitAsync(header, DONE, seen);
      if (waited.async) void waited.value.then(woken);
      else woken();
    },
    block(header, seen, sliceMs) {
      Atomics.store(header, HOST_WAITING, HOST_BLOCKED);
      Atomics.wait(header, DONE, seen, sliceMs);
    },
    workerAlive(header) {
      const state = Atomics.load(header, WORKER_STATE);
      return state !== WORKER_EXITED && state !== WORKER_STOPPED && threadAlive(Atomics.load(header, WORKER_TID));
    },
    deathError: () => new IsoswapError('ERR_VERSION_CRASHED', `${label()} is gone: its thread ended during a call`),
  };
}

/**
 * The worker-thread end of {@link threadHostSignals}.
 *
 * @example
 * new ChannelServer(request.channel, entries, state, threadWorkerSignals(tid));
 */
export function threadWorkerSignals(tid: number): WorkerSignals {
  return {
    id: tid,
    park(header, seen, woken) {
      Atomics.store(header, WORKER_STATE, WORKER_PARKED);
      const waited = waitAsync(header, HEAD, seen);
      if (!waited.async) {
        Atomics.store(header, WORKER_STATE, WORKER_RUNNING);
        return false;
      }
      void waited.value.then(woken);
      return true;
    },
    notifyHost(header) {
      if (Atomics.load(header, HOST_WAITING) !== 0) Atomics.notify(header, DONE);
    },
    ended(header, state) {
      Atomics.store(header, WORKER_STATE, state);
      Atomics.notify(header, HEAD);
      Atomics.notify(header, DONE);
    },
  };
}
