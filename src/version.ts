import type { Artifact } from './artifact.js';
import { IsoswapError } from './errors.js';
import { sweepLoader } from './loader-sweep.js';
import type { VersionRuntime } from './runtime/types.js';
import type { VersionInfo, VersionStatus } from './version-info.js';

/**
 * One artifact loaded in its own runtime. Counts its calls in flight so that a retiring
 * version can drain them before it unloads.
 */
export class Version {
  status: VersionStatus = 'loading';
  readonly loadedAt = new Date();
  /** Set once isoswap_unload ran (with a state block it runs at the swap's pause). */
  unloadHookRan = false;
  #inflight = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #done = (): void => {
    if (--this.#inflight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  };

  constructor(
    readonly id: number,
    readonly artifact: Artifact,
    readonly runtime: VersionRuntime,
    /** For a rollback or restart: the version whose build this one serves again. */
    readonly sourceId?: number,
  ) {}

  get info(): VersionInfo {
    const { id, artifact, loadedAt, status, sourceId } = this;
    return Object.freeze({ id, library: artifact.library, copy: artifact.copy, sha256: artifact.sha256, loadedAt, status, sourceId });
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** Runs one call on this version, counted until it settles. */
  call(name: string, args: unknown[]): Promise<unknown> {
    this.#inflight++;
    const result = this.runtime.call(name, args);
    result.then(this.#done, this.#done);
    return result;
  }

  /** The blocking form; throws if this runtime has none. */
  callSync(name: string, args: unknown[]): unknown {
    const sync = this.runtime.callSync;
    if (sync === undefined) {
      throw new IsoswapError('ERR_INVALID_OPTIONS', 'callSync is not available in this isolation mode');
    }
    this.#inflight++;
    try {
      return sync(name, args);
    } finally {
      this.#done();
    }
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
    if (drained) {
      if (!this.unloadHookRan) {
        this.unloadHookRan = true;
        await this.runtime.runUnloadHook().catch(() => false);
      }
      await this.runtime.shutdown();
    } else {
      await this.runtime.kill(new IsoswapError('ERR_DRAIN_TIMEOUT',
        `version ${this.id} (${this.artifact.library}) still had ${this.#inflight} call(s) in flight after ${drainTimeoutMs} ms; they were abandoned`,
        { version: this.id, file: this.artifact.library }));
    }
    await this.#teardown();
    if (this.status === 'draining') this.status = 'retired';
  }

  /** Ends a version that never served, or that crashed, without draining. */
  async discard(status: VersionStatus): Promise<void> {
    this.status = status;
    await this.runtime.kill();
    await this.#teardown();
  }

  async #teardown(): Promise<void> {
    sweepLoader();
    await this.artifact.remove();
  }
}
