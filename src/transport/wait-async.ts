// Atomics.waitAsync is in Node 20 (V8), but its types are in TypeScript's ES2024 lib and
// this project compiles against ES2023: typed here once instead.

/** The result of {@link waitAsync}: settled at once, or a promise of the wake-up. */
export type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

/**
 * `Atomics.waitAsync`: waits, without blocking the thread, until `array[index]` is
 * notified while it holds `value`.
 */
export const waitAsync = (Atomics as unknown as {
  waitAsync: (array: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;
}).waitAsync;
