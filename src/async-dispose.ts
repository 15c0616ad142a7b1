/**
 * The key of `[Symbol.asyncDispose]()`, for `await using host = await createIsolatedHost(...)`:
 * `Symbol.asyncDispose`, or where the runtime lacks it the symbol Node itself falls back
 * to (`Symbol.for('nodejs.asyncDispose')`), so that both name the same method.
 */
export const ASYNC_DISPOSE: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');
