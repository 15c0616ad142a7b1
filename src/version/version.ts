import { setTimeout as sleep } from 'node:timers/promises';
import type { Artifact } from '../library/artifact.js';
import { IsoswapError, loadHookRefused } from '../errors.js';
import { sweepLoader } from '../library/loader-sweep.js';
import { SYNC_OP, type LoadInfo } from '../runtime/protocol.js';
import type { VersionRuntime } from '../runtime/types.js';
import type { Deadline } from '../transport/blocking-wait.js';
import type { VersionInfo, VersionStatus } from './version-info.js';

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
  readonly #done = (): void => {
    if (--this.#inflight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  };

  constructor(
    readonly id: number,
    readonly artifact: Artifact,
    runtime: VersionRuntime,
    /** For a rollback or restart: the version whose build this one serves again. */
    readonly sourceId?: number,
  ) {
    this.#runtime = runtime;
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
    const badArity = this.#checkArity(name, args);
    if (badArity !== null) return Promise.reject(badArity);
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
    const badArity = this.#checkArity(name, args);
    if (badArity !== null) throw badArity;
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
    this.#kill(new IsoswapError('ERR_VERSION_CRASHED',
      `version ${this.id} (${this.artifact.library}) was killed: a call to ${name} took longer than ${ms} ms`, where))
      .catch(() => {}); // a stuck thread is reported when the version retires
    this.#onCallTimeout?.(error);
    return error;
  }

  /** ERR_BAD_ARGUMENTS when `args` does not fit the prototype's arity (koffi would drop
   *  extra arguments silently), else null. */
  #checkArity(name: string, args: unknown[]): IsoswapError | null {
    const expected = this.runtime.report.arity[name];
    if (expected === undefined || expected === args.length) return null;
    const given = args.length;
    return new IsoswapError('ERR_BAD_ARGUMENTS', `${name} in ${this.artifact.library} takes ${expected} argument(s), ${given} given`,
      { function: name, file: this.artifact.library, expected, given });
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
    this.#attached = this.#accepted(await this.runtime.runLoadHook(info));
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
    try {
      return this.runtime.hookSync(op, args, timeoutMs);
    } catch (err) {
      if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') throw err;
      const timedOut = new IsoswapError('ERR_HOOK_TIMEOUT',
        `${hook} of ${this.artifact.library} (version ${this.id}) took longer than hookTimeoutMs (${timeoutMs} ms); the version is killed`,
        { version: this.id, file: this.artifact.library, hook, timeoutMs });
      this.abandon(timedOut);
      throw timedOut;
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
    this.#kill(reason).catch(() => {}); // a stuck thread is reported when the version retires
  }

  /** Resolves true once no call is in flight, false if `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => { clearTimeout(timer); resolve(true); };
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.push(wake);
    });
  }

  /**
   * Drains (calls in flight finish, up to `drainTimeoutMs`), runs isoswap_unload unless it
   * already ran, unloads, ends the runtime, sweeps the loader and removes the copy.
   */
  async retire(drainTimeoutMs: number): Promise<void> {
    if (this.status === 'serving' || this.status === 'loading') this.status = 'draining';
    const drained = await this.whenIdle(drainTimeoutMs);
    try {
      if (drained && this.#killing === null) {
        if (this.#attached) {
          this.#attached = false;
          await this.runtime.runUnloadHook().catch(() => false);
        }
        await this.runtime.shutdown();
      } else {
        await this.#kill(drained ? undefined : new IsoswapError('ERR_DRAIN_TIMEOUT',
          `version ${this.id} (${this.artifact.library}) still had ${this.#inflight} call(s) in flight after ${drainTimeoutMs} ms; they were abandoned`,
          { version: this.id, file: this.artifact.library }));
      }
    } finally {
      await this.#teardown();
    }
    if (this.status === 'draining') this.status = 'retired';
  }

  /** Ends a version that never served, or that crashed, without draining. */
  async discard(status: VersionStatus): Promise<void> {
    this.status = status;
    try {
      await this.#kill();
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
  async #kill(reason?: IsoswapError): Promise<void> {
    this.#killReason ??= reason ?? new IsoswapError('ERR_VERSION_CRASHED', `version ${this.id} (${this.artifact.library}) was stopped`, { version: this.id });
    this.#killing ??= this.runtime.kill(reason).then(() => { this.#killEnded = true; return true as const; });
    const ended = await Promise.race([this.#killing, sleep(KILL_GRACE_MS, false, { ref: false })]);
    if (!ended) {
      throw new IsoswapError('ERR_THREAD_STUCK',
        `version ${this.id} (${this.artifact.library}): a worker thread is stuck in a native call and cannot be stopped; ` +
        'it ends when the call returns, and the process cannot exit before (isolation: \'process\' can kill such a call)',
        { version: this.id, file: this.artifact.library });
    }
  }

  async #teardown(): Promise<void> {
    if (this.#killing === null || this.#killEnded) this.#runtime = null; // a stuck thread's stays
    sweepLoader();
    await this.artifact.remove();
  }
}
