/** The options of the host's methods: one call's (`callWith`) and `close`'s. */
import { IsoswapError } from '../errors.js';
import { checkTimeoutMs, rejectUnknownOptions } from '../options.js';

/** The options of one call: `host.callWith({ signal, timeoutMs }, name, ...args)`. */
export interface CallOptions {
  /** Aborting it rejects the call with ERR_CALL_ABORTED (`details.started`: whether it
   *  had reached the version; if so its work runs to its end there, its result dropped). */
  signal?: AbortSignal | undefined;
  /** This call's limit instead of `callTimeoutMs` (0: none); past it ERR_CALL_TIMEOUT,
   *  and the version is killed and replaced, as for `callTimeoutMs`. */
  timeoutMs?: number | undefined;
}

export interface ResolvedCallOptions {
  signal: AbortSignal | undefined;
  /** undefined: the host's `callTimeoutMs`. */
  timeoutMs: number | undefined;
}

const CALL_OPTION_NAMES = ['signal', 'timeoutMs'] as const;

/** Checks the options of one call (ERR_INVALID_OPTIONS naming the option). */
export function resolveCallOptions(options: CallOptions): ResolvedCallOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid call options: callWith takes `{ signal, timeoutMs }` first, then the function name and its arguments', { option: 'options', allowed: CALL_OPTION_NAMES });
  }
  rejectUnknownOptions(options, CALL_OPTION_NAMES, '');
  const { signal, timeoutMs } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid call options: `signal` must be an AbortSignal', { option: 'signal', allowed: 'an AbortSignal' });
  }
  return { signal, timeoutMs: timeoutMs === undefined ? undefined : checkTimeoutMs(timeoutMs, 'timeoutMs') };
}

/** The options of `close()`. */
export interface CloseOptions {
  /** true: calls in flight and held reject at once with ERR_HOST_CLOSED (`details.forced`),
   *  every worker or child ends without `isoswap_unload`. Default false: they finish first. */
  force?: boolean | undefined;
}

/** Checks `close()`'s options (ERR_INVALID_OPTIONS naming the option). */
export function resolveCloseOptions(options: CloseOptions | undefined): { force: boolean } {
  if (options === undefined) return { force: false };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid close options: close takes `{ force }` or nothing', { option: 'options', allowed: ['force'] });
  }
  rejectUnknownOptions(options, ['force'], '');
  if (options.force !== undefined && typeof options.force !== 'boolean') {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid close options: `force` must be true or false', { option: 'force', allowed: 'true or false' });
  }
  return { force: options.force === true };
}

/** The rejection of a call whose signal fired; `started`: it had reached the version. */
export function callAborted(name: string, started: boolean, reason: unknown): IsoswapError {
  const what = started ? 'it had reached the version: its work runs to its end there and its result is dropped' : 'it was never sent: nothing ran';
  return new IsoswapError('ERR_CALL_ABORTED', `the call to ${name} was aborted; ${what}`, { function: name, started }, { cause: reason });
}

/**
 * Runs `send` unless `signal` fires first. `send` is handed `mayStart`, which it calls
 * right before the call leaves the host: false once the signal fired (nothing is sent).
 * The promise rejects with ERR_CALL_ABORTED at the abort, started or not; a started
 * call's own outcome is then dropped (its rejection handled, never unhandled).
 */
export function abortable<T>(signal: AbortSignal | undefined, name: string, send: (mayStart: () => boolean) => Promise<T>): Promise<T> {
  if (signal === undefined) return send(() => true);
  if (signal.aborted) return Promise.reject(callAborted(name, false, signal.reason));
  let started = false;
  let onAbort = (): void => {};
  const outcome = new Promise<T>((resolve, reject) => {
    onAbort = () => reject(callAborted(name, started, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    send(() => {
      if (signal.aborted) return false;
      started = true;
      return true;
    }).then(resolve, reject);
  });
  return outcome.finally(() => signal.removeEventListener('abort', onAbort));
}
