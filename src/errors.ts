/**
 * One error class with a stable `code`, branded so that `instanceof` holds for errors
 * rebuilt on the other side of a worker or process boundary (the undici pattern).
 */

/** Every code isoswap raises, with what it means. */
export const ERROR_CODES = {
  ERR_LIBRARY_NOT_FOUND: 'the library file does not exist',
  ERR_NOT_A_LIBRARY: 'the file is not a complete shared library for this machine',
  ERR_SYMBOL_MISSING: 'a declared function is not exported by the library',
  ERR_BAD_PROTOTYPE: 'a function prototype cannot be parsed',
  ERR_UNKNOWN_FUNCTION: 'the function was not declared in `functions`',
  ERR_BAD_ARGUMENTS: 'the arguments do not fit the prototype',
  ERR_LOAD_HOOK: 'isoswap_load refused the version',
  ERR_VERSION_CRASHED: 'the version serving the call died',
  ERR_CALL_TIMEOUT: 'the call took longer than callTimeoutMs',
  ERR_LOAD_TIMEOUT: 'loading the library took longer than loadTimeoutMs',
  ERR_THREAD_STUCK: 'a worker thread is stuck in a native call: it cannot be stopped, and the process cannot exit before the call returns',
  ERR_DRAIN_TIMEOUT: 'a retiring version still had calls in flight at its deadline',
  ERR_NO_ROLLBACK: 'there is no earlier good version to roll back to',
  ERR_HOST_CLOSED: 'the host is closed',
  ERR_SWAP_IN_PROGRESS: 'callSync waited past the swap\'s own deadlines (drainTimeoutMs + hookTimeoutMs), or found a step only the event loop can finish: a crashed version being loaded again in thread isolation, or by a restart the event loop began',
  ERR_INVALID_OPTIONS: 'the options passed to createIsolatedHost are invalid',
  ERR_BUILD_FAILED: 'the build command failed',
  ERR_WATCH: 'watching the library failed (the file system watcher reported an error)',
  ERR_STATE_LAYOUT: 'the isoswap_state section changed size and the new version did not declare ISOSWAP_STATE_PREFIX_OK',
  ERR_BEFORE_SWAP: 'a beforeSwap listener threw or rejected (the swap went on)',
  ERR_HOOK_TIMEOUT: 'isoswap_load or isoswap_unload (or unloading: the library destructors, or a beforeSwap listener) ran longer than hookTimeoutMs; the version was killed or, in a thread, abandoned',
  ERR_GUEST_THREADS: 'a retired version left threads it started running: its copy stays mapped until the process exits',
  ERR_THREAD_EXITED: 'a worker thread ended inside a native call (pthread_exit): its calls never return',
  ERR_DEPENDENCY_MISSING: 'a library the version needs (DT_NEEDED) was found in none of the places searched',
  ERR_LIBRARY_UNREADABLE: 'the library exists but cannot be read (permissions, I/O error)',
  ERR_LIBRARY_TOO_LARGE: 'the library is larger than the size isoswap reads into memory',
  ERR_AMBIGUOUS_LIBRARY: 'the `library` glob matches more than one file',
  ERR_TEMP_DIR: 'no directory for the private copies: beside the library and the temp dir both refused (read-only, missing, not a directory)',
  ERR_COPY_FAILED: 'writing the private copy of a build failed (no space, I/O error); nothing partial is left',
  ERR_STATE_ALLOC: 'the memory of the state block could not be reserved (memfd_create or posix_fallocate failed)',
  ERR_STATE_MAP: 'the state block could not be mapped (mmap failed)',
  ERR_ADDON_INIT: 'a Node-API addon did not register (not an addon), or its init threw',
  ERR_ADDON_THREW: 'an addon function threw; details.code keeps the code it threw with (napi_throw_error)',
  ERR_NOT_CLONEABLE: 'an argument or result of an addon function cannot be structured-cloned (a function, an external handle...)',
  ERR_HEADER: 'the `header` file cannot be read, or declares a function whose types cannot be mapped (names the line)',
  ERR_UNSUPPORTED_PLATFORM: 'the feature needs Linux (glibc calls such as pipe2 and poll)',
  ERR_OUTPUT_CAPTURE: '`isoswap run` could not set up the pipes that capture the library\'s output (pipe2 failed)',
  ERR_SIGNATURE_CHANGED: 'a declared function\'s signature changed in the new build (without `allowSignatureChange`)',
  ERR_BUFFER_LOST: 'a `warning`: an `_Out_`/`_Inout_` buffer was detached or shrunk while its call ran, so what the library wrote could not be written back (the call itself resolved); details.position names the argument',
} as const;

export type IsoswapErrorCode = keyof typeof ERROR_CODES;

const BRAND = Symbol.for('isoswap.IsoswapError');

/** The plain form an error takes to cross a `postMessage` or IPC boundary. */
export interface SerializedIsoswapError {
  readonly [BRAND]?: never;
  isoswap: true;
  code: IsoswapErrorCode;
  message: string;
  stack?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

/**
 * The error every isoswap operation rejects or throws with.
 *
 * @example
 * try { await host.reload(); }
 * catch (err) { if (err instanceof IsoswapError && err.code === 'ERR_SYMBOL_MISSING') console.log(err.details); }
 */
export class IsoswapError extends Error {
  readonly code: IsoswapErrorCode;
  /** Extra facts: the file, the symbol, the version id... */
  readonly details: Record<string, unknown>;

  constructor(code: IsoswapErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return 'IsoswapError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** The plain object that crosses a worker or process boundary. */
  toJSON(): SerializedIsoswapError {
    return { isoswap: true, code: this.code, message: this.message, stack: this.stack, details: this.details };
  }

  /** Rebuilds an error from {@link IsoswapError.toJSON}'s output. */
  static fromJSON(data: SerializedIsoswapError): IsoswapError {
    const err = new IsoswapError(data.code, data.message, data.details ?? {});
    if (data.stack !== undefined) err.stack = data.stack;
    return err;
  }

  /**
   * Any thrown value as an IsoswapError: kept if it is one, rebuilt if it is one's plain
   * form, else wrapped with `code` and `context`.
   */
  static from(value: unknown, code: IsoswapErrorCode, context: string): IsoswapError {
    if (value instanceof IsoswapError) return value;
    if (IsoswapError.isSerialized(value)) return IsoswapError.fromJSON(value);
    const message = value instanceof Error ? value.message : String(value);
    return new IsoswapError(code, `${context}: ${message}`, {}, { cause: value });
  }

  /** True for the plain object {@link IsoswapError.toJSON} makes. */
  static isSerialized(value: unknown): value is SerializedIsoswapError {
    return typeof value === 'object' && value !== null && (value as { isoswap?: unknown }).isoswap === true
      && typeof (value as { code?: unknown }).code === 'string';
  }
}

// The errors the host raises in more than one place.

export const hostClosed = (what: string): IsoswapError =>
  new IsoswapError('ERR_HOST_CLOSED', `${what}: the host is closed`);

export const unknownFunction = (name: string, declared: string[]): IsoswapError =>
  new IsoswapError('ERR_UNKNOWN_FUNCTION', `unknown function ${name}: declared are ${declared.join(', ') || 'none'}`, { function: name });

export const swapInProgress = (what: string, why: string): IsoswapError =>
  new IsoswapError('ERR_SWAP_IN_PROGRESS', `${what}: a swap is in progress and ${why}; retry after it (await host.call waits instead)`);

export const loadHookRefused = (library: string, id: number, code: number): IsoswapError =>
  new IsoswapError('ERR_LOAD_HOOK', `isoswap_load of ${library} (version ${id}) refused it with ${code}`, { file: library, version: id, result: code });

/** Where a version was when it failed: `details.phase` of its crash or timeout. */
export type CrashPhase = 'constructor' | 'load-hook' | 'unload-hook' | 'call';

/**
 * A crash (ERR_VERSION_CRASHED) that happened during `phase`, saying so in its message
 * and `details.phase`; other errors, and crashes that already name a phase, as they are.
 *
 * @example
 * await runtime.runUnloadHook().catch((err) => { throw inPhase(err, 'unload-hook'); });
 */
export function inPhase(error: unknown, phase: CrashPhase): unknown {
  if (!(error instanceof IsoswapError) || error.code !== 'ERR_VERSION_CRASHED' || error.details['phase'] !== undefined) return error;
  const where = { 'constructor': 'while loading (a library constructor)', 'load-hook': 'in isoswap_load', 'unload-hook': 'in isoswap_unload', 'call': 'in a call' }[phase];
  return new IsoswapError('ERR_VERSION_CRASHED', `${error.message} (${where})`, { ...error.details, phase }, { cause: error });
}
