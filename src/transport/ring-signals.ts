import { IsoswapError } from '../errors.js';
import {
  CALL_COMING, DONE, DONE_AT, HEAD, HEAD_AT, HOST_WAITING, POSTED, WAKE, WORKER_BLOCKED, WORKER_EXITED, WORKER_PARKED, WORKER_RUNNING, WORKER_STATE,
  WORKER_STOPPED, WORKER_WATCHING, WORKER_TID, type RingHeader,
} from './ring-layout.js';
import { nowMs } from './clock.js';
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
 *
 * Each side says where it sleeps before it sleeps (HOST_WAITING, WORKER_STATE), so the
 * other wakes it only then, directly on the word it waits on, and stamps when it made the
 * change the sleeper waits for (HEAD_AT, DONE_AT; spin-budget.ts).
 */
export interface HostSignals {
  /** After publishing requests: wakes the worker if it sleeps; true if it did (its answer
   *  then comes a wake-up later than a spinning worker's). */
  wakeWorker(ring: RingHeader): boolean;
  /** After posting a message to the worker: a worker blocked on WAKE runs no event loop. */
  nudge(ring: RingHeader): void;
  /** Without blocking, waits until DONE leaves `seen`, then calls `woken` (at most once
   *  per sleep; a spurious call is harmless). HOST_WAITING is HOST_ASLEEP meanwhile. */
  sleep(ring: RingHeader, seen: number, woken: () => void): void;
  /** Blocks this thread until DONE may have left `seen`, or `sliceMs` passed.
   *  HOST_WAITING is HOST_BLOCKED meanwhile. */
  block(ring: RingHeader, seen: number, sliceMs: number): void;
  /** For a blocked host, which cannot receive exit events: whether the worker runs. */
  workerAlive(ring: RingHeader): boolean;
  /** The error for a worker {@link workerAlive} found gone. */
  deathError(): IsoswapError;
}

/** The worker end: sleeping until the host publishes, and telling the host of results. */
export interface WorkerSignals {
  /** What the worker writes in WORKER_TID, for {@link HostSignals.workerAlive}. */
  readonly id: number;
  /** Parks on the event loop until HEAD leaves `seen` and calls `woken` then; false (not
   *  parked) when it already has. WORKER_STATE is WORKER_PARKED meanwhile. */
  park(ring: RingHeader, seen: number, woken: () => void): boolean;
  /** Blocks this thread while WAKE holds `wake`, at most `sliceMs` ({@link blockWorker}). */
  waitWake(ring: RingHeader, wake: number, sliceMs: number): void;
  /** After storing DONE: wakes the host if it said it waits. */
  notifyHost(ring: RingHeader): void;
  /** The worker stops serving (`state` WORKER_STOPPED) or its thread exits
   *  (WORKER_EXITED): a parked wait must go, a blocked host must look. */
  ended(ring: RingHeader, state: number): void;
}

/** What a blocked worker found: a request to run, a request about to come (CALL_COMING),
 *  or a reason to turn its event loop (a message the host posted, or the end of a slice). */
export type BlockOutcome = 'work' | 'call' | 'turn';

/**
 * The worker blocks on WAKE until the host publishes or posts (the host's end is each
 * signals' wakeWorker and nudge). `turnPosted` is POSTED as read before the worker's event
 * loop last turned: a POSTED past it means a message may wait there, so the worker does
 * not block. A wake for a call bumps WAKE only: the worker that answered it blocks again
 * at once, without a turn of its event loop first (a host sharing its core would wait for
 * that turn). The worker stores WORKER_BLOCKED, then reads POSTED and HEAD; the host
 * stores HEAD (or posts and bumps POSTED, then WAKE), then reads WORKER_STATE: with
 * sequentially consistent atomics one of the two sees the other.
 *
 * WAKE is read before WORKER_BLOCKED is stored: every wake the host claims (a
 * compare-exchange from WORKER_BLOCKED) then bumps WAKE past the value waited on, and
 * the wait ends at once. Read after, a claim that HEAD does not show could come in
 * between: a prewake (prewakeWorker, before the call is in the ring), or a flush's
 * wakeWorker for a call the worker already ran. It set WORKER_RUNNING and bumped WAKE; the
 * worker read the bumped WAKE and slept on it; the host, finding it running, woke it for
 * no later call: they waited for the slice's end (10 s).
 */
export function blockWorker(ring: RingHeader, seen: number, turnPosted: number, sliceMs: number, signals: WorkerSignals): BlockOutcome {
  const { header } = ring;
  const wake = Atomics.load(header, WAKE);
  Atomics.store(header, WORKER_STATE, WORKER_BLOCKED);
  if (Atomics.load(header, POSTED) === turnPosted && Atomics.load(header, HEAD) === seen) signals.waitWake(ring, wake, sliceMs);
  Atomics.store(header, WORKER_STATE, WORKER_RUNNING);
  const coming = Atomics.exchange(header, CALL_COMING, 0) === 1;
  return Atomics.load(header, HEAD) !== seen ? 'work' : coming ? 'call' : 'turn';
}

/**
 * The host is about to publish a call: a worker blocked on WAKE is woken now, so that its
 * wake-up overlaps what the host does before publishing (CALL_COMING). What the worker
 * was: 'woken' (it slept), 'watching' (awake for a predicted burst, its code cold after
 * idle), or null (awake, or parked: woken when the calls are flushed).
 */
export function prewakeWorker(ring: RingHeader, signals: HostSignals): 'woken' | 'watching' | null {
  const { header } = ring;
  const state = Atomics.load(header, WORKER_STATE);
  if (state === WORKER_WATCHING) return 'watching';
  if (state !== WORKER_BLOCKED) return null;
  Atomics.store(header, CALL_COMING, 1);
  return signals.wakeWorker(ring) ? 'woken' : null;
}

/**
 * The host's half of {@link blockWorker} and of a parked worker's wake-up: what kind of
 * sleep the worker is in, claimed once (a compare-exchange back to WORKER_RUNNING, so one
 * batch of calls costs one wake-up), with HEAD_AT stamped after. For a blocked worker,
 * WAKE is bumped too. `notify` wakes the word: HEAD for a parked worker, WAKE for a
 * blocked one.
 */
export function claimWake(ring: RingHeader, notify: (kind: typeof WORKER_PARKED | typeof WORKER_BLOCKED) => void): boolean {
  const { header, stamps } = ring;
  const state = Atomics.load(header, WORKER_STATE);
  if (state !== WORKER_PARKED && state !== WORKER_BLOCKED) return false;
  if (Atomics.compareExchange(header, WORKER_STATE, state, WORKER_RUNNING) !== state) return false;
  if (state === WORKER_BLOCKED) Atomics.add(header, WAKE, 1);
  notify(state);
  // After the wake-up, which the clock read (microseconds after idle) would delay: the
  // worker reads the stamp once it answered; one it finds stale teaches it nothing
  stamps[HEAD_AT] = nowMs();
  return true;
}

/**
 * The host's half for a message: POSTED and WAKE are bumped (a worker about to block sees
 * it and turns its event loop instead), and a worker already blocked is woken.
 */
export function nudgeWorker(ring: RingHeader, notify: () => void): void {
  const { header } = ring;
  Atomics.add(header, POSTED, 1);
  Atomics.add(header, WAKE, 1);
  if (Atomics.compareExchange(header, WORKER_STATE, WORKER_BLOCKED, WORKER_RUNNING) === WORKER_BLOCKED) notify();
}

/**
 * The worker's half of a result: HOST_WAITING (0: the host is awake), with DONE_AT stamped
 * when the host sleeps (the caller then wakes it the way its isolation does).
 */
export function hostWaits(ring: RingHeader): number {
  const waiting = Atomics.load(ring.header, HOST_WAITING);
  if (waiting !== 0) ring.stamps[DONE_AT] = nowMs();
  return waiting;
}

/**
 * Thread isolation: the ring is a SharedArrayBuffer.
 */
export function threadHostSignals(label: () => string): HostSignals {
  const notify = (ring: RingHeader, kind: number): void => { Atomics.notify(ring.header, kind === WORKER_BLOCKED ? WAKE : HEAD); };
  return {
    wakeWorker: (ring) => claimWake(ring, (kind) => notify(ring, kind)),
    nudge: (ring) => nudgeWorker(ring, () => notify(ring, WORKER_BLOCKED)),
    sleep(ring, seen, woken) {
      Atomics.store(ring.header, HOST_WAITING, HOST_ASLEEP);
      const waited = waitAsync(ring.header, DONE, seen);
      if (waited.async) void waited.value.then(woken);
      else woken();
    },
    block(ring, seen, sliceMs) {
      Atomics.store(ring.header, HOST_WAITING, HOST_BLOCKED);
      Atomics.wait(ring.header, DONE, seen, sliceMs);
    },
    workerAlive({ header }) {
      const state = Atomics.load(header, WORKER_STATE);
      return state !== WORKER_EXITED && state !== WORKER_STOPPED && threadAlive(Atomics.load(header, WORKER_TID));
    },
    deathError: () => new IsoswapError('ERR_VERSION_CRASHED', `${label()} is gone: its thread ended during a call`),
  };
}

/**
 * The worker-thread end of {@link threadHostSignals}.
 */
export function threadWorkerSignals(tid: number): WorkerSignals {
  return {
    id: tid,
    park({ header }, seen, woken) {
      Atomics.store(header, WORKER_STATE, WORKER_PARKED);
      const waited = waitAsync(header, HEAD, seen);
      if (!waited.async) {
        Atomics.store(header, WORKER_STATE, WORKER_RUNNING);
        return false;
      }
      void waited.value.then(woken);
      return true;
    },
    waitWake({ header }, wake, sliceMs) {
      Atomics.wait(header, WAKE, wake, sliceMs);
    },
    notifyHost(ring) {
      if (hostWaits(ring) !== 0) Atomics.notify(ring.header, DONE);
    },
    ended({ header }, state) {
      Atomics.store(header, WORKER_STATE, state);
      Atomics.notify(header, HEAD);
      Atomics.notify(header, DONE);
    },
  };
}
