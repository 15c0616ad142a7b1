import { setTimeout as sleep } from 'node:timers/promises';
import type { Artifact } from '../library/artifact.js';
import { IsoswapError, type CrashPhase } from '../errors.js';
import { sweepLoader } from '../library/loader-sweep.js';
import type { LoadInfo } from '../wire/protocol.js';
import type { FunctionTable } from '../options.js';
import { awaited, step, type Steps } from '../procedure.js';
import type { VersionRuntime } from '../runtime/types.js';
import { Deadline } from '../transport/blocking-wait.js';
import type { VersionInfo, VersionStatus } from './version-info.js';
import { argumentChecks, type ArgumentCheck } from './argument-check.js';
import { withDeadline } from '../runtime/deadline.js';
import { CallLedger } from './call-ledger.js';
import { HandleLeases } from './handle-leases.js';
import { HookRunner } from './hook-runner.js';
import { keepGuestThreadsMapped, stuckThreadError } from './stuck-threads.js';
import type { PinnedReason } from '../library/pinned.js';

/** How long a killed runtime may take to end. A worker thread stuck in native code never
 *  does: worker.terminate() waits for JavaScript, which a native call never returns to. */
const KILL_GRACE_MS = 1000;

/**
 * One artifact loaded in its own runtime, and its life: it serves calls (counted by its
 * CallLedger, so that it drains before it unloads), runs its hooks in order (HookRunner),
 * and ends once: retired after a drain, or discarded, or killed.
 */
export class Version {
  status: VersionStatus = 'loading';
  readonly loadedAt = new Date();
  readonly #calls = new CallLedger();
  readonly #hooks: HookRunner;
  #runtime: VersionRuntime | null;
  #killEnded = false;
  #callTimeoutMs = 0;
  /** Told of a crash, a call past callTimeoutMs, a hook past hookTimeoutMs. */
  #onFault: ((error: IsoswapError) => void) | null = null;
  /** Set once the runtime is killed: later calls reject with #killReason at once. */
  #killing: Promise<true> | null = null;
  #killReason: IsoswapError | null = null;
  #hookTimeoutMs = 0;
  /** Set once ERR_THREAD_STUCK was thrown: reported once. */
  #stuckReported = false;
  /** Set when the copy had to stay mapped but could not be pinned: the runtime is kept. */
  #keepRuntime = false;
  #ended = false;
  /** Emptied at teardown: a version the history still holds (with its bytes, for a
   *  rollback) does not keep its checks (closures and bounds per function). */
  #checks: Map<string, ArgumentCheck>;
  /** An addon's objects held by the host: the version is torn down once they are gone. */
  readonly handles: HandleLeases;
  #handleTimeoutMs = 0;

  /** What makes the build unmappable in thread isolation (library/pinned.ts), or null. */
  pinned: PinnedReason | null = null;
  /** Where this version runs (a pinned build under onPinned 'process' runs in a child):
   *  a thread worker names itself, a child process does not. */
  readonly isolation: 'thread' | 'process';

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
    this.isolation = runtime.report.threadName === undefined ? 'process' : 'thread';
    this.#checks = argumentChecks(runtime.report, artifact.library);
    this.handles = new HandleLeases(id, artifact.library);
    this.#hooks = new HookRunner({
      id, library: artifact.library,
      runtime: () => this.runtime,
      killReason: () => this.#killReason,
      kill: (reason) => { void this.#kill(reason, false); }, // a stuck thread is reported when the version retires
      timedOut: (error) => this.#onFault?.(error),
    });
  }

  /** Where a crash now would have happened: in a hook, or else in a call. */
  get phase(): CrashPhase {
    return this.#hooks.phase;
  }

  /** The runtime serving this version; gone once it is torn down, so that the history
   *  does not keep every retired version's workers and channel buffers alive. */
  get runtime(): VersionRuntime {
    if (this.#runtime === null) throw new IsoswapError('ERR_VERSION_CRASHED', `version ${this.id} (${this.artifact.library}) is torn down`, { version: this.id });
    return this.#runtime;
  }

  get info(): VersionInfo {
    const { id, artifact, loadedAt, status, sourceId } = this;
    return Object.freeze({ id, library: artifact.library, copy: artifact.copy, sha256: artifact.sha256, loadedAt, status, sourceId,
      pinned: this.pinned !== null, isolation: this.isolation, handles: this.handles.count });
  }

  /** Runs one call on this version, counted until it settles (or times out: after
   *  `timeoutMs`, the host's callTimeoutMs unless the call has its own; 0: none). */
  call(name: string, args: unknown[], timeoutMs = this.#callTimeoutMs): Promise<unknown> {
    if (this.#killReason !== null) return Promise.reject(this.#killReason);
    const bad = this.#checks.get(name)?.(args);
    if (bad) return Promise.reject(bad);
    return this.#calls.track(this.runtime.call(name, args), timeoutMs, () => this.#timedOut(name, timeoutMs));
  }

  /**
   * The deadlines of this version (0: none): a call past `callMs` rejects with
   * ERR_CALL_TIMEOUT, a hook past `hookMs` throws ERR_HOOK_TIMEOUT; either way the version
   * is killed (a child process is SIGKILLed; a worker thread cannot be, and is abandoned)
   * and its fault listener told, so that the host replaces it.
   */
  setDeadlines(callMs: number, hookMs: number, handleMs = 0): void {
    this.#handleTimeoutMs = handleMs;
    this.#callTimeoutMs = callMs;
    this.#hookTimeoutMs = hookMs;
    this.#hooks.setTimeout(hookMs);
  }

  /** `listener` is told when the runtime dies, a call outlives callTimeoutMs, or a hook run
   *  from the event loop outlives hookTimeoutMs. */
  onFault(listener: (error: IsoswapError) => void): void {
    this.#onFault = listener;
    this.runtime.onCrash(listener);
  }

  /** The blocking form; throws if this runtime has none. */
  callSync(name: string, args: unknown[]): unknown {
    const bad = this.#checks.get(name)?.(args);
    if (bad) throw bad;
    const sync = this.runtime.callSync;
    if (sync === undefined) {
      throw new IsoswapError('ERR_INVALID_OPTIONS', 'callSync is not available in this isolation mode', { option: 'isolation' });
    }
    this.#calls.started();
    try {
      return sync(name, args, this.#callTimeoutMs);
    } catch (err) {
      if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') throw err;
      throw this.#timedOut(name, this.#callTimeoutMs); // as for `call`; the call may still be running
    } finally {
      this.#calls.ended();
    }
  }

  /**
   * A call to `name` outlived its timeout (`ms`): the version is killed (its other calls
   * reject with ERR_VERSION_CRASHED) and the host told, so that it replaces it. Returns the
   * ERR_CALL_TIMEOUT the call rejects with.
   */
  #timedOut(name: string, ms: number): IsoswapError {
    const where = { function: name, version: this.id, file: this.artifact.library, timeoutMs: ms };
    const error = new IsoswapError('ERR_CALL_TIMEOUT',
      `${name} on version ${this.id} (${this.artifact.library}) took longer than ${ms} ms; the version is killed and replaced`, where);
    // Not reported here: a stuck thread is reported once, when the version retires.
    void this.#kill(new IsoswapError('ERR_VERSION_CRASHED',
      `version ${this.id} (${this.artifact.library}) was killed: a call to ${name} took longer than ${ms} ms`, where), false);
    this.#onFault?.(error);
    return error;
  }

  /** The `isoswap_state` section found at load, or null. */
  get section(): { bytes: number; prefixOk: boolean } | null {
    return this.runtime.report.section ?? null;
  }

  /** Runs isoswap_load (told `info`); throws ERR_LOAD_HOOK when it refuses. Within
   *  `timeoutMs` (default: hookTimeoutMs). */
  attach(info: LoadInfo, timeoutMs?: number): Steps<void> {
    return this.#hooks.attach(info, timeoutMs);
  }

  /** Runs isoswap_unload, if the version is attached. */
  detach(timeoutMs?: number): Steps<void> {
    return this.#hooks.detach(timeoutMs);
  }

  /** The section's bytes: see HookRunner.readSection. */
  readSection(into: Uint8Array | undefined, timeoutMs: number): Steps<Uint8Array> {
    return this.#hooks.readSection(into, timeoutMs);
  }

  /** Writes the section in every worker or child, over the blocking path. */
  writeSection(bytes: Uint8Array, timeoutMs: number): void {
    this.runtime.writeSectionSync(bytes, timeoutMs);
  }

  /**
   * Waits until the calls in flight have run; false if `timeoutMs` passes first. A
   * blocked host reads their answers on the blocking paths (`what` names it).
   */
  drain(timeoutMs: number, what: string): Steps<boolean> {
    return this.#drain(timeoutMs, what);
  }

  readonly #drain = step((timeoutMs: number, what: string): boolean => {
    try {
      this.runtime.settleSync(new Deadline(what, timeoutMs)); // 0: no limit
      return true;
    } catch (err) {
      if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') throw err;
      return false;
    }
  }, (timeoutMs: number) => this.#calls.whenIdle(timeoutMs));

  /**
   * Drains (calls in flight finish, up to `drainTimeoutMs`), runs isoswap_unload unless it
   * already ran, unloads, ends the runtime, sweeps the loader and removes the copy. Throws
   * what went wrong (an AggregateError when two things did), after the teardown.
   */
  async retire(drainTimeoutMs: number): Promise<void> {
    if (this.status === 'serving' || this.status === 'loading') this.status = 'draining';
    let drained = await this.#calls.whenIdle(drainTimeoutMs);
    if (drained && this.handles.count > 0) {
      await this.handles.released(this.#handleTimeoutMs); // its handles' calls run here until then
      this.handles.end('it retired');
      drained = await this.#calls.whenIdle(drainTimeoutMs);
    }
    this.handles.end('it retired');
    let failure: Error | null = null;
    try {
      // A version that crashed runs no hook: its process is gone, or its thread is stuck
      if (drained && this.#killing === null && this.status !== 'crashed' && this.#hooks.attached) {
        failure = await awaited(this.detach()).then(() => null, (err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      }
      failure = (await this.#keepGuestThreadsMapped()) ?? failure;
      if (this.#keepRuntime) {
        this.runtime.abandon();
      } else if (drained && this.#killing === null) {
        await this.#bounded(this.runtime.shutdown());
      } else {
        await this.#kill(drained ? undefined : new IsoswapError('ERR_DRAIN_TIMEOUT',
          `version ${this.id} (${this.artifact.library}) still had ${this.#calls.inflight} call(s) in flight after ${drainTimeoutMs} ms; they were abandoned`,
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

  async #keepGuestThreadsMapped(): Promise<IsoswapError | null> {
    const kept = await keepGuestThreadsMapped(this.runtime, this.artifact.copy, { version: this.id, file: this.artifact.library }, this.#hookTimeoutMs);
    this.#keepRuntime ||= kept.keepRuntime;
    return kept.error;
  }

  /** A forced close: the runtime is killed now, its calls in flight reject with `reason`,
   *  no hook runs; retire() then tears it down (a stuck thread is reported there). */
  forceEnd(reason: IsoswapError): void {
    this.handles.end('the host was closed');
    if (this.#runtime === null) return; // already torn down: nothing runs
    void this.#kill(reason, false);
  }

  /** Ends a version that never served, or that crashed, without draining. */
  async discard(status: VersionStatus): Promise<void> {
    this.status = status;
    this.handles.end(`it ${status === 'crashed' ? 'crashed' : 'was discarded'}`);
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
   * reported (stuck-threads.ts). Waiting longer would hang close() for as long as the
   * native call runs, which may be forever.
   */
  async #kill(reason?: IsoswapError, report = true): Promise<void> {
    this.#killReason ??= reason ?? new IsoswapError('ERR_VERSION_CRASHED', `version ${this.id} (${this.artifact.library}) was stopped`, { version: this.id });
    this.#killing ??= this.runtime.kill(reason).then(() => { this.#killEnded = true; return true as const; });
    const ended = await Promise.race([this.#killing, sleep(KILL_GRACE_MS, false, { ref: false })]);
    if (ended || !report || this.#stuckReported) return;
    this.#stuckReported = true;
    throw stuckThreadError(this.runtime, { version: this.id, file: this.artifact.library });
  }

  async #teardown(): Promise<void> {
    if ((this.#killing === null || this.#killEnded) && !this.#keepRuntime) this.#runtime = null; // a stuck or kept thread's stays
    this.#checks = new Map();
    sweepLoader();
    await awaited(this.artifact.remove());
    this.#ended = true;
  }

  /** Torn down: runtime ended (or abandoned, stuck), copy removed. */
  get ended(): boolean {
    return this.#ended;
  }
}
