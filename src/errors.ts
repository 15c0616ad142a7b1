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
  ERR_LOADER_BLOCKED: 'a library constructor or destructor in another worker thread of this process has not returned and holds the dynamic loader\'s lock: no worker thread can load a library until it does (isolation: \'process\' is not affected)',
  ERR_THREAD_STUCK: 'a worker thread is stuck in a native call: it cannot be stopped, and the process cannot exit before the call returns',
  ERR_DRAIN_TIMEOUT: 'a retiring version still had calls in flight at its deadline',
  ERR_NO_ROLLBACK: 'there is no earlier good version to roll back to',
  ERR_HOST_CLOSED: 'the host is closed (details.forced: a call ended by close({ force: true }))',
  ERR_CALL_ABORTED: 'the call\'s AbortSignal fired (callWith); details.started says whether it had reached the version (its work then runs to its end there, its result discarded)',
  ERR_ILLEGAL_CONSTRUCTOR: 'a host was made with `new`: hosts are made by createIsolatedHost and createAddonHost',
  ERR_SWAP_IN_PROGRESS: 'callSync waited past the swap\'s own deadlines (drainTimeoutMs + hookTimeoutMs), or found a step only the event loop can finish: a crashed version being loaded again in thread isolation, or by a restart the event loop began',
  ERR_INVALID_OPTIONS: 'the options passed to createIsolatedHost, createAddonHost, callWith or close are invalid (details.option names it)',
  ERR_BUILD_FAILED: 'the build command failed',
  ERR_WATCH: 'watching the library failed (the file system watcher reported an error)',
  ERR_STATE_SECTION: 'the isoswap_state section is not memory the loader maps writable in full (read-only, not allocated, or larger than its segment): the build is refused before anything touches it',
  ERR_STATE_LAYOUT: 'the isoswap_state section changed size and the new version did not declare ISOSWAP_STATE_PREFIX_OK',
  ERR_LISTENER_THREW: 'a listener of a host event threw; what the host did stands (reported as an `error` event, `cause` is what it threw)',
  ERR_BEFORE_SWAP: 'a beforeSwap listener threw or rejected (the swap went on)',
  ERR_HOOK_TIMEOUT: 'isoswap_load or isoswap_unload (or unloading: the library destructors, or a beforeSwap listener) ran longer than hookTimeoutMs; the version was killed or, in a thread, abandoned',
  ERR_GUEST_THREADS: 'a retired version left threads it started running: its copy stays mapped until the process exits',
  ERR_SIGNAL_HANDLER: 'a retired version (thread isolation) left a process-wide signal handler pointing into its code: its copy stays mapped until the process exits',
  ERR_PINNED_LIBRARY: 'a build is marked NODELETE or defines STB_GNU_UNIQUE symbols, so thread isolation can never unmap it (a `warning` from the second version on; refused with onPinned: \'refuse\')',
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
  ERR_UNSUPPORTED_PLATFORM: 'isoswap, or this feature of it, does not run on this system (macOS: nothing yet; docs/platforms.md)',
  ERR_OUTPUT_CAPTURE: '`isoswap run` could not set up the pipes that capture the library\'s output (pipe2 failed; on Windows, a named pipe)',
  ERR_SIGNATURE_CHANGED: 'a declared function\'s signature changed in the new build (without `allowSignatureChange`)',
  ERR_PREPARED_SETTLED: 'commit() or discard() of a prepared swap that was already committed or discarded',
  ERR_FLEET_ABORTED: 'a fleet swap was aborted at prepare (details.refusals names each member that refused or was lost, and why): no member moved',
  ERR_FLEET_ROLLED_BACK: 'a fleet swap\'s canary wave failed during its soak (crashes or errors past the margin) and the fleet was swapped back',
  ERR_FLEET_MEMBER: 'a fleet member does not swap on its own: reload(), rollback() and prepare() are the fleet\'s (fleet.swap(), fleet.rollback())',
  ERR_FLEET_JOIN: 'joining a fleet failed: no coordinator answered, or too few members joined, within joinTimeoutMs',
  ERR_FLEET_HASH_MISMATCH: 'the bytes of a fleet build do not hash to the sha256 the fleet named',
  ERR_FLEET_TRANSPORT: 'the fleet\'s transport failed: Redis unreachable or lost, the optional `ioredis` package missing, or a cluster IPC channel closed',
  ERR_FLEET_LEASE: 'another coordinator holds the fleet\'s lease in Redis, or this one lost it',
  ERR_VERSION_RETIRED: 'a call on an addon handle (or a host callback called by the addon) whose version has ended: the handle was released, timed out (handleTimeoutMs), was ended at a state hand-over, by keepHandleVersions, or by close()',
  ERR_CALLBACK_PENDING: 'callSync while a call that passed host functions to the addon is in flight, or reaching a version whose addon waits for one: the blocked host could never run it',
  ERR_BUFFER_LOST: 'a `warning`: an `_Out_`/`_Inout_` buffer was detached or shrunk while its call ran, so what the library wrote could not be written back (the call itself resolved); details.position names the argument',
} as const;

export type IsoswapErrorCode = keyof typeof ERROR_CODES;

/** Where a version was when it failed: `details.phase` of its crash or timeout. */
export type CrashPhase = 'constructor' | 'load-hook' | 'unload-hook' | 'call';

/**
 * The `details` every error of a code carries, for the codes whose details are stable
 * (any code may carry more; the others are a plain record). `err.code === 'ERR_CALL_ABORTED'`
 * narrows `err.details.started` to a boolean.
 */
export interface IsoswapErrorDetailsMap {
  ERR_CALL_ABORTED: { function: string; started: boolean };
  ERR_HOST_CLOSED: { forced?: boolean };
  ERR_INVALID_OPTIONS: { option: string; allowed?: unknown; suggestion?: string };
  ERR_UNKNOWN_FUNCTION: { function: string };
  ERR_CALL_TIMEOUT: { timeoutMs: number; function?: string; version?: number; file?: string };
  ERR_HOOK_TIMEOUT: { timeoutMs: number; version?: number; hook?: string; phase?: CrashPhase; file?: string };
  ERR_VERSION_CRASHED: { phase?: CrashPhase; version?: number; file?: string };
}

/** The `details` of an error with code `C`. */
export type IsoswapErrorDetails<C extends IsoswapErrorCode = IsoswapErrorCode> =
  C extends keyof IsoswapErrorDetailsMap ? IsoswapErrorDetailsMap[C] & Record<string, unknown> : Record<string, unknown>;

/** The constructor's `details` (required where the code's details have required facts) and `options`. */
type DetailsArguments<C extends IsoswapErrorCode> = Record<never, never> extends IsoswapErrorDetails<C>
  ? [details?: IsoswapErrorDetails<C>, options?: ErrorOptions]
  : [details: IsoswapErrorDetails<C>, options?: ErrorOptions];

/** An IsoswapError of any code, as a union that `err.code === '...'` narrows. */
export type AnyIsoswapError = { [C in IsoswapErrorCode]: IsoswapError<C> }[IsoswapErrorCode];

const BRAND = Symbol.for('isoswap.IsoswapError');

/** The plain form an error takes to cross a `postMessage` or IPC boundary (not exported by the package; kept in the declaration files because the fleet protocol names it). */
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
export class IsoswapError<C extends IsoswapErrorCode = IsoswapErrorCode> extends Error {
  readonly code: C;
  /** Extra facts: the file, the symbol, the version id... typed per code where they are
   *  stable ({@link IsoswapErrorDetailsMap}). */
  readonly details: IsoswapErrorDetails<C>;

  constructor(code: C, message: string, ...[details, options]: DetailsArguments<C>) {
    super(message, options);
    this.code = code;
    this.details = details ?? {} as IsoswapErrorDetails<C>;
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return 'IsoswapError';
  }

  /** Narrows to {@link AnyIsoswapError}, so that a check of `code` narrows `details`. */
  static override [Symbol.hasInstance](value: unknown): value is AnyIsoswapError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** @internal The plain object that crosses a worker or process boundary. */
  toJSON(): SerializedIsoswapError {
    return { isoswap: true, code: this.code, message: this.message, stack: this.stack, details: this.details };
  }

  /** @internal Rebuilds an error from {@link IsoswapError.toJSON}'s output. */
  static fromJSON(data: SerializedIsoswapError): IsoswapError {
    const err = new IsoswapError(data.code, data.message, data.details ?? {});
    if (data.stack !== undefined) err.stack = data.stack;
    return err;
  }

  /**
   * @internal Any thrown value as an IsoswapError: kept if it is one, rebuilt if it is one's plain
   * form, else wrapped with `code` and `context`.
   */
  static from(value: unknown, code: IsoswapErrorCode, context: string): IsoswapError {
    if (value instanceof IsoswapError) return value;
    if (IsoswapError.isSerialized(value)) return IsoswapError.fromJSON(value);
    const message = value instanceof Error ? value.message : String(value);
    return new IsoswapError(code, `${context}: ${message}`, {}, { cause: value });
  }

  /** @internal True for the plain object {@link IsoswapError.toJSON} makes. */
  static isSerialized(value: unknown): value is SerializedIsoswapError {
    return typeof value === 'object' && value !== null && (value as { isoswap?: unknown }).isoswap === true
      && typeof (value as { code?: unknown }).code === 'string';
  }
}

// The errors the host raises in more than one place.

export const hostClosed = (what: string, forced = false): IsoswapError =>
  new IsoswapError('ERR_HOST_CLOSED', forced ? `${what}: the host was closed with { force: true }` : `${what}: the host is closed`, forced ? { forced } : {});

/** `new` of a host class: hosts are made by their factory, which starts them. */
export const illegalConstructor = (host: string, factory: string): IsoswapError =>
  new IsoswapError('ERR_ILLEGAL_CONSTRUCTOR', `${host} cannot be made with \`new\`: use ${factory}()`, { class: host, factory });

export const unknownFunction = (name: string, declared: string[]): IsoswapError =>
  new IsoswapError('ERR_UNKNOWN_FUNCTION', `unknown function ${name}: declared are ${declared.join(', ') || 'none'}`, { function: name });

export const swapInProgress = (what: string, why: string): IsoswapError =>
  new IsoswapError('ERR_SWAP_IN_PROGRESS', `${what}: a swap is in progress and ${why}; retry after it (await host.call waits instead)`);

export const loadHookRefused = (library: string, id: number, code: number): IsoswapError =>
  new IsoswapError('ERR_LOAD_HOOK', `isoswap_load of ${library} (version ${id}) refused it with ${code}`, { file: library, version: id, result: code });

/**
 * A crash (ERR_VERSION_CRASHED) that happened during `phase`, saying so in its message
 * and `details.phase`; other errors, and crashes that already name a phase, as they are.
 */
export function inPhase(error: unknown, phase: CrashPhase): unknown {
  if (!(error instanceof IsoswapError) || error.code !== 'ERR_VERSION_CRASHED' || error.details['phase'] !== undefined) return error;
  const where = { 'constructor': 'while loading (a library constructor)', 'load-hook': 'in isoswap_load', 'unload-hook': 'in isoswap_unload', 'call': 'in a call' }[phase];
  return new IsoswapError('ERR_VERSION_CRASHED', `${error.message} (${where})`, { ...error.details, phase }, { cause: error });
}
