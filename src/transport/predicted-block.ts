import { HEAD, HOST_CPU, POSTED, WORKER_RUNNING, WORKER_STATE, WORKER_WATCHING, type RingHeader } from './ring-layout.js';
import { blockWorker, type BlockOutcome, type WorkerSignals } from './ring-signals.js';
import { SpinBudget } from './spin-budget.js';
import { nowMs } from './clock.js';
import type { WakePredictor, WakeWindow } from './wake-predictor.js';
import { platform } from '../platform/platform.js';

/** What a blocking worker asks of its predictor (wake-predictor.ts; a stub in tests). */
export type Predictor = Pick<WakePredictor, 'burst' | 'miss' | 'window' | 'next' | 'period'>;

/**
 * {@link blockWorker} for at most `sliceMs`; where `predictor` expects a burst of calls,
 * only until its window opens, then a spin through the window (WORKER_WATCHING: the host
 * sends no wake-up), and a block again if none came (a miss). A message posted meanwhile
 * (POSTED past `turnPosted`) ends it as it ends a block: 'turn'. Both isolations: only
 * `signals.waitWake` differs.
 */
export function blockPredicted(
  ring: RingHeader, seen: number, turnPosted: number, sliceMs: number, signals: WorkerSignals, predictor: Predictor,
): BlockOutcome {
  const { header } = ring;
  const posted = (): boolean => Atomics.load(header, POSTED) !== turnPosted;
  const work = (): boolean => Atomics.load(header, HEAD) !== seen;
  const sliceEnd = nowMs() + sliceMs;
  for (;;) {
    const now = nowMs();
    const window = predictor.window();
    if (window !== null && now >= window.from) {
      if (now < window.until && watch(header, window, () => work() || posted())) return work() ? 'work' : 'turn';
      predictor.miss();
      continue;
    }
    const until = window === null ? sliceEnd : Math.min(sliceEnd, window.from);
    const outcome = blockWorker(ring, seen, turnPosted, Math.max(0, until - now), signals);
    if (outcome !== 'turn' || window === null || nowMs() >= sliceEnd || posted()) return outcome;
  }
}

/** The host's CPU (HOST_CPU) when this thread runs on it too, else -1 (also where either
 *  is unknown: a host that never called, Windows). */
export function hostCpuShared(header: Int32Array): number {
  const host = Atomics.load(header, HOST_CPU) - 1;
  return host >= 0 && platform().currentCpu() === host ? host : -1;
}

/** Spins until `ready` or the window closes; whether `ready` came. */
function watch(header: Int32Array, window: WakeWindow, ready: () => boolean): boolean {
  const us = (window.until - nowMs()) * 1000;
  Atomics.store(header, WORKER_STATE, WORKER_WATCHING);
  // Off the host's CPU (the worker moved before it slept), without yielding: a yield to a
  // compiler there would give it a whole time slice, during which the burst comes. On the
  // host's CPU (one CPU, or the host moved), yielding: the host needs it for the burst.
  const came = new SpinBudget(us, us).spin(ready, hostCpuShared(header) < 0 ? Number.POSITIVE_INFINITY : 0);
  Atomics.store(header, WORKER_STATE, WORKER_RUNNING);
  return came;
}
