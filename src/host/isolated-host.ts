import { hostClosed, IsoswapError, unknownFunction } from '../errors.js';
import { HOST_EVENTS, HostEmitter, type SwapReason } from '../events.js';
import type { FunctionTable, ResolvedOptions } from '../options.js';
import type { PrototypeArguments, PrototypeResult } from '../library/prototype-types.js';
import { createStateBlock, type StateBlock } from '../state/state-block.js';
import { SwapQueue } from './swap-queue.js';
import { VersionFactory } from '../version/version-factory.js';
import { hostFunctions } from './host-functions.js';
import { awaited } from '../procedure.js';
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
  readonly #stateBlock: StateBlock | null;
  #closing: Promise<void> | null = null;
  #watcher: LibraryWatcher | null = null;
  #versions!: VersionFactory;
  #queue!: SwapQueue;

  /** @internal use {@link createIsolatedHost} */
  constructor(opts: ResolvedOptions<F>) {
    super();
    this.#opts = opts;
    this.#stateBlock = opts.stateBytes > 0 ? createStateBlock(opts.stateBytes, opts.isolation) : null;
    this.fns = hostFunctions(() => this.#queue?.current?.functions ?? {}, (name, args) => (this.call as (n: string, ...a: unknown[]) => Promise<unknown>)(name, ...args)) as HostFunctions<F>;
  }

  /** @internal loads the first version; rejects (and cleans up) when it cannot serve. */
  async start(): Promise<void> {
    try {
      this.#versions = VersionFactory.create(this.#opts, this.#stateBlock?.ref);
    } catch (err) {
      this.#stateBlock?.close();
      throw err;
    }
    this.#queue = new SwapQueue(this.#opts, this.#versions, this, this.#stateBlock);
    try {
      const first = await this.#queue.first();
      // Only once chokidar is ready: it reports nothing from before (docs/architecture.md).
      if (this.#opts.watch) await this.#startWatcher().catch(async (err) => { await this.#queue.discard(first); throw err; });
      this.emit(HOST_EVENTS.LOAD, first.info);
    } catch (err) {
      await this.#versions.close();
      this.#stateBlock?.close();
      throw err;
    }
  }

  /** The version serving now. */
  get current(): VersionInfo {
    return this.#queue.current.info;
  }

  /** The versions served so far, oldest first, with their status. */
  get history(): VersionInfo[] {
    return this.#queue.history.infos;
  }

  /** The state block shared by every version, or undefined without `state`. */
  get state(): Uint8Array | undefined {
    return this.#stateBlock?.view;
  }

  /** @internal the functions the current version serves (for an addon, what it exports) */
  get functions(): string[] {
    return this.#queue.closed ? [] : [...this.#queue.current.runtime.report.functions];
  }

  get closed(): boolean {
    return this.#queue.closed;
  }

  /**
   * Calls a declared function on the current version.
   *
   * @example
   * const score = await host.call('do_tick', 1);
   */
  call<K extends FunctionName<F>>(name: K, ...args: ArgumentsOf<F, K>): Promise<ResultOf<F, K>> {
    if (this.#queue.closed) return Promise.reject(hostClosed(`call ${name}`));
    // Held calls are checked against the version they will reach (its functions may differ)
    const held = this.#queue.gate.waiting;
    if (held !== null) return held.then(() => this.call(name, ...args));
    const { functions } = this.#queue.current;
    if (!this.#declares(name, functions)) return Promise.reject(unknownFunction(name, Object.keys(functions)));
    return this.#queue.current.call(name, args) as Promise<ResultOf<F, K>>;
  }

  /**
   * Calls a declared function and blocks until it returns: for game loops. During a swap's
   * hand-over, or (process isolation) the restart of a crashed version, it finishes that
   * itself (the event loop it would wait for is blocked here) and runs on the new version.
   *
   * @example
   * for (let i = 0; i < 1000; i++) host.callSync('do_tick', i);
   */
  callSync<K extends FunctionName<F>>(name: K, ...args: ArgumentsOf<F, K>): ResultOf<F, K> {
    const queue = this.#queue;
    if (queue.closed) throw hostClosed(`callSync ${name}`);
    // A hand-over, else the restart of a crashed version: finished here, within their deadlines
    if (queue.gate.waiting !== null) queue.finishHeld(`callSync ${name}`);
    const { functions } = queue.current; // after a hand-over it ran: the version it serves
    if (!this.#declares(name, functions)) throw unknownFunction(name, Object.keys(functions));
    return queue.current.callSync(name, args) as ResultOf<F, K>;
  }

  /** An addon's exports are known to the worker that loaded it, which refuses other names. */
  #declares(name: string, functions: FunctionTable): boolean {
    return this.#opts.addon === true || Object.hasOwn(functions, name);
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
    if (this.#queue.closed) return Promise.reject(hostClosed(`reload of ${this.#opts.library}`));
    return this.#reportingFaults(this.#queue.reload(reason));
  }

  /**
   * Serves the previous good version again, from its kept bytes (it works after the file
   * on disk changed). Rejects with ERR_NO_ROLLBACK when there is none.
   *
   * @example
   * await host.rollback();
   */
  rollback(): Promise<VersionInfo> {
    if (this.#queue.closed) return Promise.reject(hostClosed(`rollback of ${this.#opts.library}`));
    return this.#reportingFaults(this.#queue.enqueue(() => awaited(this.#queue.rollback())));
  }

  /** A crash or a hook past its deadline also reaches the `error` event, not only the
   *  caller of reload() or rollback() (a swap of the watcher reports its own failures). */
  #reportingFaults<T>(swap: Promise<T>): Promise<T> {
    const reported = swap.catch((err: unknown) => {
      if (err instanceof IsoswapError && err.details['phase'] !== undefined) this.reportError(err);
      throw err;
    });
    reported.catch(() => {}); // as the queued swap itself: a caller may attach its handler later
    return reported;
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
    this.#queue.refuse();
    await this.#watcher?.close();
    await this.#queue.close();
    this.#stateBlock?.close();
    await this.#versions.close();
    this.emit(HOST_EVENTS.CLOSE);
  }

  /** Swaps to each complete build saved at `library`; failures become `error` events. */
  async #startWatcher(): Promise<void> {
    this.#watcher = await LibraryWatcher.start({
      library: this.#opts.library,
      currentSha256: () => this.#queue.current.artifact.sha256,
      swap: (bytes, sha256) => this.#queue.enqueue(async () => {
        // A reload() may have served these very bytes while this change waited its turn.
        if (sha256 === this.#queue.current.artifact.sha256) return this.#queue.current.info;
        return awaited(this.#queue.swap({ bytes, sha256 }, 'watch'));
      }),
      onError: (err) => this.reportError(err),
    });
  }
}
