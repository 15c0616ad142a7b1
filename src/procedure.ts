import gensync from 'gensync';
import { swapInProgress } from './errors.js';

/**
 * A procedure's steps, written once as a generator and run by either of two drivers:
 * {@link awaited} on the event loop (each step awaited), or {@link blocking} for a host
 * blocked in `callSync`, which cannot see the event loop (a game loop that never yields
 * drives a crash restart or a hand-over itself). A procedure runs another with `yield*`;
 * only its leaves, the {@link step}s, say how they wait, the way Babel's gensync does.
 */
export type Steps<T> = Generator<unknown, T, unknown>;

/** Both drivers take the steps as they are: gensync's own run loops, sync and async. */
const run = gensync((steps: Steps<unknown>) => steps as gensync.Handler<unknown>);

/** Runs the steps on the event loop. */
export function awaited<T>(steps: Steps<T>): Promise<T> {
  return run.async(steps) as Promise<T>;
}

/** Runs the steps without the event loop: each step blocks. */
export function blocking<T>(steps: Steps<T>): T {
  return run.sync(steps) as T;
}

/** A leaf step with its two forms: how it blocks, and how it awaits. */
export function step<A extends unknown[], R>(blocks: (...args: A) => R, awaits: (...args: A) => Promise<R>): (...args: A) => Steps<R> {
  return gensync({ sync: blocks, async: awaits });
}

/** A step only the event loop takes (a blocking driver brings what it would fetch, or
 *  runs in process isolation only); reached from a blocked callSync, ERR_SWAP_IN_PROGRESS. */
export function awaitOnly<A extends unknown[], R>(what: string, awaits: (...args: A) => Promise<R>): (...args: A) => Steps<R> {
  return step((): R => { throw swapInProgress(what, 'it needs the event loop'); }, awaits);
}

/** Whether the event loop runs the steps (else a blocked host does): for the few places
 *  where the drivers differ in what they may do, not only in how they wait. */
export const onEventLoop: () => Steps<boolean> = gensync({
  sync: () => false,
  errback: (done: (err: unknown, result: boolean) => void) => done(null, true),
});
