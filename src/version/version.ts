import { setTimeout as sleep } from 'node:timers/promises';
import type { Artifact } from '../library/artifact.js';
import { inPhase, IsoswapError, loadHookRefused, type CrashPhase } from '../errors.js';
import { sweepLoader, whenLoaderIdle } from '../library/loader-sweep.js';
import { SYNC_OP, type LoadInfo } from '../wire/protocol.js';
import type { FunctionTable } from '../options.js';
import type { VersionRuntime } from '../runtime/types.js';
import type { Deadline } from '../transport/blocking-wait.js';
import type { VersionInfo, VersionStatus } from './version-info.js';
import { argumentChecks, type ArgumentCheck } from './argument-check.js';
import { withDeadline } from '../runtime/deadline.js';
import { guestThreads, keepMapped } from '../library/guest-threads.js';
import { signalHandlersIn } from '../library/signal-handlers.js';
import { threadAlive } from '../transport/thread-alive.js';

/** How long a killed runtime may take to end. A worker thread stuck in native code never
 *  does: worker.terminate() waits for JavaScript, which a native call never returns to. */
const KILL_GRACE_MS = 1000;

/**
 * One artifact loaded in its own runtime. Counts its calls in flight so that a retiring
 * version can drain them before it unloads, and owns the order of its hooks: they
 * alternate isoswap_load, isoswap_unload, and unload runs only after a load accepted.
 */
export class Version {
  status: VersionStatus = 'loading';
  readonly loadedAt = new Date();
  /** Between an isoswap_load that accepted and the isoswap_unload that follows. */
  #attached = false;
  #inflight = 0;
  #runtime: VersionRuntime | null;
  #killEnded = false;
  #idleWaiters: Array<() => void> = [];
  #callTimeoutMs = 0;
  #onCallTimeout: ((error: IsoswapError) => void) | null = null;
  /** Set once the runtime is killed: later calls reject with #killReason at once. */
  #killing: Promise<true> | null = null;
  #killReason: IsoswapError | null = null;
  #hookTimeoutMs = 0;
  #onHookTimeout: ((error: IsoswapError) => void) | null = null;
  /** What the version runs now, for the phase of a crash. */
  #phase: CrashPhase = 'call';
  /** Set once ERR_THREAD_STUCK was thrown: reported once. */
  #stuckReported = false;
  /** Set when the copy had to stay mapped but could not be pinned: the runtime is kept. */
  #keepRuntime = false;
  #ended = false;
  /** Emptied at teardown: a version the history still holds (with its bytes, for a
   *  rollback) does not keep its checks (closures and bounds per function). */
  #checks: Map<string, ArgumentCheck>;
  readonly #done = (): void => {
    if (--this.#inflight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  };

  constructor(
    readonly id: number,
    readonly artifact: Artifact,
    runtime: VersionRuntime,
    /** Call name → koffi prototype, as this build declares them (with `header`, read for
     *  this build). */
    readonly functions: FunctionTable,
    /** For a rollback or restart: the version whose build this one serves again. */
    readonly sourceId?: number,
  ) {
    this.#runtime = runtime;
    this.#checks = argumentChecks(runtime.report, artifact.library);
  }

  /** Where a crash now would have happened: in a hook, or else in a call. */
  get phase(): CrashPhase {
    return this.#phase;
  }

  /** The runtime serving this version; gone once it is torn down, so that the history
   *  does not keep every retired version's workers and channel buffers alive. */
  get runtime(): VersionRuntime {
    if (this.#runtime === null) throw new IsoswapError('ERR_VERSION_CRASHED', `version ${this.id} (${this.artifact.library}) is torn down`, { version: this.id });
    return this.#runtime;
  }

  get info(): VersionInfo {
    const { id, artifact, loadedAt, status, sourceId } = this;
    return Object.freeze({ id, library: artifact.library, copy: artifact.copy, sha256: artifact.sha256, loadedAt, status, sourceId });
  }

  /** Runs one call on this version, counted until it settles (or times out). */
  call(name: string, args: unknown[]): Promise<unknown> {
    if (this.#killReason !== null) return Promise.reject(this.#killReason);
    const bad = this.#checks.get(name)?.(args);
    if (bad) return Promise.reject(bad);
    this.#inflight++;
    const result = this.runtime.call(name, args);
    if (this.#callTimeoutMs > 0) return this.#timed(name, result);
    result.then(this.#done, this.#done);
    return result;
  }

  /**
   * From now on a call that takes longer than `ms` rejects with ERR_CALL_TIMEOUT; the
   * version is then killed (its other calls reject with ERR_VERSION_CRASHED) and
   * `listener` is told, so that the host replaces it.
   *
   * @example
   * version.setCallTimeout(500, (err) => host.replace(version, err));
   */
  setCallTimeout(ms: number, listener: (error: IsoswapError) => void): void {
    this.#callTimeoutMs = ms;
    this.#onCallTimeout = listener;
  }

  #timed(name: string, result: Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.#done(); // a timed-out call no longer holds a drain: its version is killed
        return true;
      };
      const timer = setTimeout(() => {
        if (settle()) reject(this.#timedOut(name));
      }, this.#callTimeoutMs);
      result.then((value) => { if (settle()) resolve(value); }, (err: unknown) => { if (settle()) reject(err); });
    });
  }

  /** The blocking form; throws if this runtime has none. */
  callSync(name: string, args: unknown[]): unknown {
    const bad = this.#checks.get(name)?.(args);
    if (bad) throw bad;
    const sync = this.runtime.callSync;
    if (sync === undefined) {
      throw new IsoswapError('ERR_INVALID_OPTIONS', 'callSync is not available in this isolation mode');
    }
    this.#inflight++;
    try {
      return sync(name, args, this.#callTimeoutMs);
    } catch (err) {
      if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') throw err;
      throw this.#timedOut(name); // as for `call`; the call may still be running
    } finally {
      this.#done();
    }
  }

  /**
   * A call to `name` outlived callTimeoutMs: the version is killed (its other calls reject
   * with ERR_VERSION_CRASHED) and the host told, so that it replaces it. Returns the
   * ERR_CALL_TIMEOUT the call rejects with.
   */
  #timedOut(name: string): IsoswapError {
    const ms = this.#callTimeoutMs;
    const where = { function: name, version: this.id, file: this.artifact.library, timeoutMs: ms };
    const error = new IsoswapError('ERR_CALL_TIMEOUT',
      `${name} on version ${this.id} (${this.artifact.library}) took longer than ${ms} ms; the version is killed and replaced`, where);
    // Not reported here: a stuck thread is reported once, when the version retires.
    void this.#kill(new IsoswapError('ERR_VERSION_CRASHED',
      `version ${this.id} (${this.artifact.library}) was killed: a call to ${name} took longer than ${ms} ms`, where), false);
    this.#onCallTimeout?.(error);
    return error;
  }

  /**
   * From now on isoswap_load and isoswap_unload may run `ms` (0: no limit); past it the
   * version is killed (a child process is SIGKILLed; a worker thread cannot be, and is
   * abandoned), the hook rejects with ERR_HOOK_TIMEOUT and `listener` is told.
   *
   * @example
   * version.setHookTimeout(5000, (err) => recover(version, err));
   */
  setHookTimeout(ms: number, listener: (error: IsoswapError) => void): void {
    this.#hookTimeoutMs = ms;
    this.#onHookTimeout = listener;
  }

  /** Runs a hook over the message path within the hook deadline, its crash told apart. */
  async #hook<T>(hook: string, phase: CrashPhase, run: () => Promise<T>): Promise<T> {
    if (this.#killReason !== null) throw this.#killReason;
    this.#phase = phase;
    try {
      return await withDeadline(run(), this.#hookTimeoutMs, () => {
        const ms = this.#hookTimeoutMs;
        const thread = this.runtime.report.threadName !== undefined;
        const error = new IsoswapError('ERR_HOOK_TIMEOUT',
          `${hook} of ${this.artifact.library} (version ${this.id}) did not return within ${ms} ms (hookTimeoutMs); ` +
          (thread ? 'its worker thread is abandoned: it ends when the hook returns, and may still write the state block until then'
            : 'its process is killed'),
          { hook, phase, version: this.id, file: this.artifact.library, timeoutMs: ms });
        void this.#kill(error, false); // a stuck thread is reported when the version is discarded or retired
        this.#onHookTimeout?.(error);
        return error;
      });
    } catch (err) {
      throw inPhase(err, phase);
    } finally {
      this.#phase = 'call';
    }
  }

  /** The `isoswap_state` section found at load, or null. */
  get section(): { bytes: number; prefixOk: boolean } | null {
    return this.runtime.report.section ?? null;
  }

  /**
   * Runs isoswap_load (isoswap_load_ex, told `info`, where exported) over the message
   * path; throws ERR_LOAD_HOOK when it refuses.
   *
   * @example
   * await next.attach({ version: next.id, reason: 1, failure: 0, previous: old.id });
   */
  async attach(info: LoadInfo): Promise<void> {
    this.#attached = this.#accepted(await this.#hook('isoswap_load', 'load-hook', () => this.runtime.runLoadHook(info)));
  }

  /** The same over the blocking path, so that a host blocked in callSync can run it. */
  attachSync(info: LoadInfo, timeoutMs: number): void {
    this.#attached = this.#accepted(Number(this.#hookSync('isoswap_load', SYNC_OP.loadHook, [info], timeoutMs)));
  }

  /** Runs isoswap_unload over the blocking path, if the version is attached. */
  detachSync(timeoutMs: number): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#hookSync('isoswap_unload', SYNC_OP.unloadHook, [], timeoutMs);
  }

  /** A hook past `timeoutMs` leaves the version inside it: it is killed, ERR_HOOK_TIMEOUT. */
  #hookSync(hook: string, op: string, args: unknown[], timeoutMs: number): unknown {
    const phase: CrashPhase = op === SYNC_OP.unloadHook ? 'unload-hook' : 'load-hook';
    this.#phase = phase; // a death seen during the blocking read is reported from inside it
    try {
      return this.runtime.hookSync(op, args, timeoutMs);
    } catch (err) {
      if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') throw inPhase(err, phase);
      const timedOut = new IsoswapError('ERR_HOOK_TIMEOUT',
        `${hook} of ${this.artifact.library} (version ${this.id}) took longer than hookTimeoutMs (${timeoutMs} ms); the version is killed`,
        { version: this.id, file: this.artifact.library, hook, phase, timeoutMs });
      this.abandon(timedOut);
      throw timedOut;
    } finally {
      this.#phase = 'call';
    }
  }

  #accepted(code: number): true {
    if (code !== 0) throw loadHookRefused(this.artifact.library, this.id, code);
    return true;
  }

  /** Blocks until the calls in flight have run (a drain from a blocked host). */
  settleSync(deadline: Deadline): void {
    this.runtime.settleSync(deadline);
  }

  /** The section's bytes: into `into` (thread isolation: a SharedArrayBuffer view the
   *  worker copies into), else returned (process isolation: over the pipe). */
  readSectionSync(into: Uint8Array | undefined, timeoutMs: number): Uint8Array {
    const read = this.#hookSync('reading isoswap_state', SYNC_OP.readSection, into === undefined ? [] : [into], timeoutMs) as Uint8Array | undefined;
    return into ?? read!;
  }

  writeSectionSync(bytes: Uint8Array, timeoutMs: number): void {
    this.runtime.writeSectionSync(bytes, timeoutMs);
  }

  /** Ends a version whose hook outlived its deadline: it cannot be unloaded cleanly. */
  abandon(reason: IsoswapError): void {
    this.#attached = false;
    void this.#kill(reason, false); // a stuck thread is reported when the version retires
  }

  /** Resolves true once no call is in flight, false if `timeoutMs` passes first (0: no
   *  limit, as for every other deadline option). */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => { clearTimeout(timer); resolve(true); };
      const timer = timeoutMs <= 0 ? undefined : setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.push(wake);
    });
  }

  /**
   * Drains (calls in flight finish, up to `drainTimeoutMs`), runs isoswap_unload unless it
   * already ran, unloads, ends the runtime, sweeps the loader and removes the copy. Throws
   * what went wrong (an AggregateError when two things did), after the teardown.
   */
  async retire(drainTimeoutMs: number): Promise<void> {
    if (this.status === 'serving' || this.status === 'loading') this.status = 'draining';
    const drained = await this.whenIdle(drainTimeoutMs);
    let failure: unknown = null;
    try {
      if (drained && this.#killing === null && this.#attached) {
        this.#attached = false;
        failure = await this.#hook('isoswap_unload', 'unload-hook', () => this.runtime.runUnloadHook()).then(() => null, (err: unknown) => err);
      }
      failure = (await this.#keepGuestThreadsMapped()) ?? failure;
      if (this.#keepRuntime) {
        this.runtime.abandon();
      } else if (drained && this.#killing === null) {
        await this.#bounded(this.runtime.shutdown());
      } else {
        await this.#kill(drained ? undefined : new IsoswapError('ERR_DRAIN_TIMEOUT',
          `version ${this.id} (${this.artifact.library}) still had ${this.#inflight} call(s) in flight after ${drainTimeoutMs} ms; they were abandoned`,
          { version: this.id, file: this.artifact.library }));
      }
    } catch (err) {
      // A hook that timed out and then a thread that cannot be stopped: both are told.
      throw failure === null ? err : new AggregateError([failure, err], `retiring version ${this.id}`);
    } finally {
      await this.#teardown();
    }
    if (this.status === 'draining') this.status = 'retired';
    if (failure !== null) throw failure;
  }

  /** dlclose runs the library's destructors: bounded like a hook; past it, killed. */
  async #bounded(shutdown: Promise<void>): Promise<void> {
    await withDeadline(shutdown, this.#hookTimeoutMs, () => new IsoswapError('ERR_HOOK_TIMEOUT',
      `unloading ${this.artifact.library} (version ${this.id}: dlclose, its destructors) took longer than ${this.#hookTimeoutMs} ms; it is killed`,
      { phase: 'unload-hook', version: this.id, file: this.artifact.library, timeoutMs: this.#hookTimeoutMs }))
      .catch(async (err: unknown) => { await this.#kill(err as IsoswapError); throw err; });
  }

  /**
   * Thread isolation: threads the library started (they carry the version's thread name)
   * and that still run, or signal handlers it installed for the whole process, would
   * execute unmapped code once the copy is unloaded. The copy is pinned instead (never
   * unmapped) and the ERR_GUEST_THREADS or ERR_SIGNAL_HANDLER to report is returned.
   */
  async #keepGuestThreadsMapped(): Promise<IsoswapError | null> {
    const name = this.runtime.report.threadName;
    if (name === undefined) return null;
    const running = guestThreads(name, this.runtime.report.tids ?? []);
    const signals = running.length === 0 ? signalHandlersIn(this.artifact.copy) : [];
    if (running.length === 0 && signals.length === 0) return null;
    // keepMapped is a dlopen on this thread: never while a guest constructor or destructor
    // may hold the loader lock. If none lets go in time, the worker thread is kept instead
    // (its end would unload the copy).
    if (await whenLoaderIdle(this.#hookTimeoutMs)) keepMapped(this.artifact.copy);
    else this.#keepRuntime = true;
    if (running.length === 0) {
      return new IsoswapError('ERR_SIGNAL_HANDLER',
        `version ${this.id} (${this.artifact.library}) left its handler installed for signal(s) ${signals.join(', ')}: ` +
        'its copy stays mapped until the process exits; restore the previous handlers in isoswap_unload',
        { version: this.id, file: this.artifact.library, signals, phase: 'unload-hook' });
    }
    return new IsoswapError('ERR_GUEST_THREADS',
      `version ${this.id} (${this.artifact.library}) left ${running.length} thread(s) running (tid ${running.join(', ')}): ` +
      'its copy stays mapped until the process exits; stop them in isoswap_unload',
      { version: this.id, file: this.artifact.library, tids: running, phase: 'unload-hook' });
  }

  /** Ends a version that never served, or that crashed, without draining. */
  async discard(status: VersionStatus): Promise<void> {
    this.status = status;
    try {
      const guests = await this.#keepGuestThreadsMapped();
      if (this.#keepRuntime) this.runtime.abandon();
      else await this.#kill();
      if (guests !== null) throw guests;
    } finally {
      await this.#teardown();
    }
  }

  /**
   * Kills the runtime once (calls pending reject with `reason`) and waits for it at most
   * KILL_GRACE_MS; a runtime that is still there then is a thread stuck in native code,
   * reported as ERR_THREAD_STUCK. Waiting longer would hang close() for as long as the
   * native call runs, which may be forever.
   */
  async #kill(reason?: IsoswapError, report = true): Promise<void> {
    this.#killReason ??= reason ?? new IsoswapError('ERR_VERSION_CRASHED', `version ${this.id} (${this.artifact.library}) was stopped`, { version: this.id });
    this.#killing ??= this.runtime.kill(reason).then(() => { this.#killEnded = true; return true as const; });
    const ended = await Promise.race([this.#killing, sleep(KILL_GRACE_MS, false, { ref: false })]);
    if (ended || !report || this.#stuckReported) return;
    this.#stuckReported = true;
    const where = { version: this.id, file: this.artifact.library };
    const exited = (this.runtime.report.tids ?? []).filter((tid) => !threadAlive(tid));
    if (exited.length > 0) {
      this.runtime.abandon();
      throw new IsoswapError('ERR_THREAD_EXITED',
        `version ${this.id} (${this.artifact.library}): a worker thread ended inside a native call (pthread_exit?, tid ${exited.join(', ')}); ` +
        'its calls never return, and Node aborts when the process exits (docs/deadlines.md)', { ...where, tids: exited });
    }
    throw new IsoswapError('ERR_THREAD_STUCK',
      `version ${this.id} (${this.artifact.library}): a worker thread is stuck in a native call and cannot be stopped; ` +
      'it ends when the call returns, and the process cannot exit before (isolation: \'process\' can kill such a call)', where);
  }

  async #teardown(): Promise<void> {
    if ((this.#killing === null || this.#killEnded) && !this.#keepRuntime) this.#runtime = null; // a stuck or kept thread's stays
    this.#checks = new Map();
    sweepLoader();
    await this.artifact.remove();
    this.#ended = true;
  }

  /** Torn down: runtime ended (or abandoned, stuck), copy removed. */
  get ended(): boolean {
    return this.#ended;
  }
}
