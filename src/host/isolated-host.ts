import { CallGate } from './call-gate.js';
import { CrashPolicy } from './crash-policy.js';
import { hostClosed, IsoswapError, loadHookRefused, swapInProgress, unknownFunction } from '../errors.js';
import { HOST_EVENTS, HostEmitter, type SwapReason } from '../events.js';
import { History } from './history.js';
import type { FunctionTable, ResolvedOptions } from '../options.js';
import type { PrototypeArguments, PrototypeResult } from '../library/prototype-types.js';
import { createStateBlock, type StateBlock } from '../state/state-block.js';
import { handOverState } from '../state/state-handover.js';
import type { Version } from '../version/version.js';
import { VersionFactory, type BuildSource } from '../version/version-factory.js';
import { LibraryWatcher } from '../watch/watcher.js';
import type { VersionInfo } from '../version/version-info.js';

/** `host.fns`: one async function per declared name, typed from its prototype. */
export type HostFunctions<F extends FunctionTable> = {
  readonly [K in keyof F]: (...args: PrototypeArguments<F[K]>) => Promise<PrototypeResult<F[K]>>;
};

/** A declared name (suggested by editors) or any other string (rejected at run time). */
type FunctionName<F extends FunctionTable> = (keyof F & string) | (string & {});
type ResultOf<F extends FunctionTable, K> = K extends keyof F ? PrototypeResult<F[K]> : any;
type ArgumentsOf<F extends FunctionTable, K> = K extends keyof F ? PrototypeArguments<F[K]> : unknown[];

/**
 * Serves the current version of a native library and swaps it for a new one without
 * dropping a call. Made by {@link createIsolatedHost}.
 */
export class IsolatedHost<F extends FunctionTable = FunctionTable> extends HostEmitter {
  /** Every declared function as `(...args) => Promise<result>`. */
  readonly fns: HostFunctions<F>;
  readonly #opts: ResolvedOptions<F>;
  readonly #history: History;
  readonly #stateBlock: StateBlock | null;
  readonly #crashes = new CrashPolicy();
  readonly #retiring = new Set<Promise<void>>();
  #current!: Version;
  #closed = false;
  #closing: Promise<void> | null = null;
  #swapChain: Promise<unknown> = Promise.resolve();
  #queuedReload: Promise<VersionInfo> | null = null;
  /** Holds new calls during a state hand-over and while a crashed version restarts. */
  readonly #gate = new CallGate();
  #watcher: LibraryWatcher | null = null;
  #versions!: VersionFactory;

  /** @internal use {@link createIsolatedHost} */
  constructor(opts: ResolvedOptions<F>) {
    super();
    this.#opts = opts;
    this.#history = new History(opts.keepBuilds);
    this.#stateBlock = opts.stateBytes > 0 ? createStateBlock(opts.stateBytes, opts.isolation) : null;
    const fns: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const name of Object.keys(opts.functions)) fns[name] = (...args) => (this.call as (n: string, ...a: unknown[]) => Promise<unknown>)(name, ...args);
    this.fns = Object.freeze(fns) as HostFunctions<F>;
  }

  /** @internal loads the first version; rejects (and cleans up) when it cannot serve. */
  async start(): Promise<void> {
    this.#versions = await VersionFactory.create(this.#opts, this.#stateBlock?.ref, (version, error) => this.#onCrash(version, error));
    try {
      const first = await this.#versions.load('file');
      try {
        await this.#runLoadHook(first);
      } catch (err) {
        await first.discard('failed');
        throw err;
      }
      this.#serve(first);
      // Only once chokidar is ready: it reports nothing from before (docs/architecture.md).
      if (this.#opts.watch) await this.#startWatcher().catch(async (err) => { await first.discard('failed'); throw err; });
      this.emit(HOST_EVENTS.LOAD, first.info);
    } catch (err) {
      await this.#versions.close();
      throw err;
    }
  }

  /** The version serving now. */
  get current(): VersionInfo {
    return this.#current.info;
  }

  /** The versions served so far, oldest first, with their status. */
  get history(): VersionInfo[] {
    return this.#history.infos;
  }

  /** The state block shared by every version, or undefined without `state`. */
  get state(): Uint8Array | undefined {
    return this.#stateBlock?.view;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Calls a declared function on the current version.
   *
   * @example
   * const score = await host.call('do_tick', 1);
   */
  call<K extends FunctionName<F>>(name: K, ...args: ArgumentsOf<F, K>): Promise<ResultOf<F, K>> {
    if (this.#closed) return Promise.reject(hostClosed(`call ${name}`));
    if (!Object.hasOwn(this.#opts.functions, name)) {
      return Promise.reject(unknownFunction(name, Object.keys(this.#opts.functions)));
    }
    const held = this.#gate.waiting;
    if (held !== null) return held.then(() => this.call(name, ...args));
    return this.#current.call(name, args) as Promise<ResultOf<F, K>>;
  }

  /**
   * Calls a declared function and blocks until it returns: for game loops.
   *
   * @example
   * for (let i = 0; i < 1000; i++) host.callSync('do_tick', i);
   */
  callSync<K extends FunctionName<F>>(name: K, ...args: ArgumentsOf<F, K>): ResultOf<F, K> {
    if (this.#closed) throw hostClosed(`callSync ${name}`);
    if (!Object.hasOwn(this.#opts.functions, name)) throw unknownFunction(name, Object.keys(this.#opts.functions));
    // The state block is between versions (old unloaded, new not yet validated) and the
    // hand-over needs this thread's event loop: blocking here would never end.
    if (this.#gate.waiting !== null) throw swapInProgress(`callSync ${name}`);
    return this.#current.callSync(name, args) as ResultOf<F, K>;
  }

  /**
   * Loads what is at `library` now and serves it. Resolves once the new version serves
   * (the old one drains in the background); rejects with an IsoswapError while the
   * current version keeps serving. Calls made while one reload waits to start join it.
   *
   * @example
   * const v = await host.reload(); console.log(`serving v${v.id} ${v.sha256.slice(0, 8)}`);
   */
  reload(reason: SwapReason = 'reload'): Promise<VersionInfo> {
    if (this.#closed) return Promise.reject(hostClosed(`reload of ${this.#opts.library}`));
    if (this.#queuedReload !== null) return this.#queuedReload;
    const queued = this.#enqueue(() => {
      this.#queuedReload = null;
      return this.#swap('file', reason);
    });
    this.#queuedReload = queued;
    return queued;
  }

  /**
   * Serves the previous good version again, from its kept bytes (it works after the file
   * on disk changed). Rejects with ERR_NO_ROLLBACK when there is none.
   *
   * @example
   * await host.rollback();
   */
  rollback(): Promise<VersionInfo> {
    if (this.#closed) return Promise.reject(hostClosed(`rollback of ${this.#opts.library}`));
    return this.#enqueue(() => this.#rollback());
  }

  /**
   * Stops watching, lets calls in flight finish, retires every version, removes the
   * copies. Idempotent; later calls reject with ERR_HOST_CLOSED.
   *
   * @example
   * process.on('SIGINT', () => host.close());
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.#watcher?.close();
    await this.#swapChain;
    this.#retire(this.#current);
    while (this.#retiring.size > 0) await Promise.all(this.#retiring);
    this.#stateBlock?.close();
    await this.#versions.close();
    this.emit(HOST_EVENTS.CLOSE);
  }

  /** Swaps to each complete build saved at `library`; failures become `error` events. */
  async #startWatcher(): Promise<void> {
    this.#watcher = await LibraryWatcher.start({
      library: this.#opts.library,
      currentSha256: () => this.#current.artifact.sha256,
      swap: (bytes, sha256) => this.#enqueue(async () => {
        // A reload() may have served these very bytes while this change waited its turn.
        if (sha256 === this.#current.artifact.sha256) return this.#current.info;
        return this.#swap({ bytes, sha256 }, 'watch');
      }),
      onError: (err) => this.reportError(err),
    });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#swapChain.then(task);
    this.#swapChain = result.catch(() => {});
    return result;
  }

  async #rollback(onServing?: () => void): Promise<VersionInfo> {
    const from = this.#current;
    const target = this.#history.rollbackTarget(from);
    if (target === undefined) {
      throw new IsoswapError('ERR_NO_ROLLBACK', `no earlier good version of ${this.#opts.library} to roll back to`, { file: this.#opts.library });
    }
    const info = await this.#swap({ bytes: target.artifact.bytes! }, 'rollback', target.id, onServing);
    if (from.status !== 'failed') from.status = 'rolled-back'; // a crash's rollback: 'failed' says more
    return info;
  }

  /** `onServing` runs once the new version serves, before `swap` is emitted. */
  async #swap(source: BuildSource, reason: SwapReason, sourceId?: number, onServing?: () => void): Promise<VersionInfo> {
    const started = performance.now();
    if (this.#closed) throw hostClosed(`reload of ${this.#opts.library}`);
    const next = await this.#versions.load(source, sourceId);
    const from = this.#current;
    let pauseMs: number | undefined;
    try {
      if (this.#closed) throw hostClosed(`reload of ${this.#opts.library}`);
      pauseMs = await this.#handOver(next);
    } catch (err) {
      await next.discard('failed');
      throw err;
    }
    this.#serve(next);
    onServing?.();
    this.#retire(from);
    const to = next.info;
    this.emit(HOST_EVENTS.SWAP, { from: from.info, to, ms: performance.now() - started, reason, pauseMs });
    if (this.#closed) throw hostClosed(`reload of ${this.#opts.library}`);
    return to;
  }

  /**
   * Runs the hooks of a swap. Without a state block the new version's isoswap_load runs
   * while the old one serves on; with one, new calls are held while the block changes
   * hands (see handOverState). Returns how long calls were held, with a state block.
   */
  async #handOver(next: Version): Promise<number | undefined> {
    if (this.#stateBlock === null) {
      await this.#runLoadHook(next);
      return undefined;
    }
    const held = performance.now();
    const release = this.#gate.hold();
    try {
      await handOverState(this.#current, next, {
        block: this.#stateBlock,
        drainTimeoutMs: this.#opts.drainTimeoutMs,
        runLoadHook: (version) => this.#runLoadHook(version),
        reportError: (error) => this.reportError(error),
      });
      this.#serve(next); // before the gate opens, so that held calls go to the new version
      return performance.now() - held;
    } finally {
      release();
    }
  }

  async #runLoadHook(version: Version): Promise<void> {
    const code = await version.runtime.runLoadHook();
    if (code !== 0) throw loadHookRefused(this.#opts.library, version.id, code);
  }

  #serve(version: Version): void {
    if (this.#current === version) return;
    version.status = 'serving';
    this.#current = version;
    this.#history.add(version);
  }

  #retire(version: Version): void {
    const retiring = version.retire(this.#opts.drainTimeoutMs)
      .catch((err) => this.reportError(IsoswapError.from(err, 'ERR_VERSION_CRASHED', `retiring version ${version.id}`)))
      .then(() => {
        this.#retiring.delete(retiring);
        this.emit(HOST_EVENTS.RETIRED, version.info);
      });
    this.#retiring.add(retiring);
  }

  /** The serving version died (or was killed for a call past callTimeoutMs): report it,
   *  then start its build again or roll back. */
  #onCrash(version: Version, error: IsoswapError): void {
    if (version !== this.#current || this.#closed) return; // a retiring version: its calls already rejected
    version.status = 'crashed';
    // Calls made from here on (a crash listener's too) wait for the restart (or rollback)
    // instead of failing on a dead version; if none serves after it, they reach the
    // crashed one and reject.
    const release = this.#gate.hold();
    const crashed = error.code === 'ERR_CALL_TIMEOUT' ? error
      : new IsoswapError('ERR_VERSION_CRASHED', `version ${version.id} (${this.#opts.library}) crashed: ${error.message}`,
        { ...error.details, version: version.id, file: this.#opts.library });
    this.emit(HOST_EVENTS.CRASH, { version: version.info, error: crashed });
    this.reportError(crashed);
    const bytes = version.artifact.bytes;
    const restart = bytes !== null && this.#crashes.shouldRestart(version.artifact.sha256);
    void this.#enqueue(async () => {
      if (this.#closed || this.#current !== version) return;
      if (restart) {
        try {
          await this.#swap({ bytes }, 'restart', version.id, release);
          return;
        } catch (err) {
          this.reportError(IsoswapError.from(err, 'ERR_VERSION_CRASHED', `restarting version ${version.id}`));
        }
      }
      version.status = 'failed';
      await this.#rollback(release).catch((err) => this.reportError(IsoswapError.from(err, 'ERR_VERSION_CRASHED', 'rolling back')));
    }).finally(release);
  }

}
