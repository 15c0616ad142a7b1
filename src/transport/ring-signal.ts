import { waitAsync, type WaitAsyncResult } from './wait-async.js';

/**
 * How the two ends of a ring sleep on a header word and wake each other. Over a
 * SharedArrayBuffer these are the Atomics calls ({@link ATOMICS_SIGNAL}); over memory that
 * is not one (a mapping shared with a child process, seen through koffi as a plain
 * ArrayBuffer) Atomics.wait refuses, and another implementation (futex) takes its place.
 */
export interface RingSignal {
  /** Wakes whoever sleeps on `header[index]`. */
  notify(header: Int32Array, index: number): void;
  /** Blocks while `header[index] === value`, up to `ms`. */
  wait(header: Int32Array, index: number, value: number, ms: number): 'ok' | 'not-equal' | 'timed-out';
  /** Waits without blocking the thread while `header[index] === value`. */
  waitAsync(header: Int32Array, index: number, value: number): WaitAsyncResult;
}

/**
 * The ring signal over a SharedArrayBuffer.
 *
 * @example
 * ATOMICS_SIGNAL.notify(header, HEAD);
 */
export const ATOMICS_SIGNAL: RingSignal = {
  notify: (header, index) => { Atomics.notify(header, index); },
  wait: (header, index, value, ms) => Atomics.wait(header, index, value, ms),
  waitAsync: (header, index, value) => waitAsync(header, index, value),
};
