import { ASYNC_DISPOSE } from '../async-dispose.js';
import { abortable, callAborted, resolveCallOptions, resolveCloseOptions, type CallOptions, type CloseOptions } from './call-options.js';
import { publishFailedSwap, publishHostEvent, type DiagnosticsHost, type FailedSwapReason } from '../diagnostics.js';
import { hostClosed, illegalConstructor, IsoswapError, unknownFunction } from '../errors.js';
import { platform } from '../platform/platform.js';
import { HOST_EVENTS, HostEmitter, type HostEventMap } from '../events.js';
import type { FunctionTable, ResolvedOptions } from '../options.js';
import type { PrototypeArguments, PrototypeResult } from '../library/prototype-types.js';
import { createStateBlock, type StateBlock } from '../state/state-block.js';
import { SwapQueue } from './swap-queue.js';
import { VersionFactory } from '../version/version-factory.js';
import { hostFunctions } from './host-functions.js';
import { awaited } from '../procedure.js';
import { LibraryWatcher } from '../watch/watcher.js';
import type { VersionInfo } from '../version/version-info.js';
import { FleetMember, fleetMemberError, type PreparedBuild } from '../fleet/fleet-member.js';
import type { FleetBuild } from '../fleet/fleet-build.js';
import type { SmokeCall } from '../fleet/protocol.js';
import { PreparedSwap, type PrepareOptions } from './prepared-swap.js';
import type { CallCodec } from './call-codec.js';
import type { Version } from '../version/version.js';

/** `host.fns`: one async function per declared name, typed from its prototype. */
export type HostFunctions<F extends FunctionTable> = {
  readonly [K in keyof F]: (...args: PrototypeArguments<F[K]>) => Promise<PrototypeResult<F[K]>>;
};

/** A declared name: another one does not compile (an untyped table takes any string,
 *  rejected at run time with ERR_UNKNOWN_FUNCTION when the version does not declare it). */
type FunctionName<F extends FunctionTable> = keyof F & string;
type ResultOf<F extends FunctionTable, K extends keyof F> = PrototypeResult<F[K]>;
type ArgumentsOf<F extends FunctionTable, K extends keyof F> = PrototypeArguments<F[K]>;

/** Only createIsolatedHost (and createAddonHost) hold it: `new IsolatedHost()` throws. */
const FACTORY = Symbol('createIsolatedHost');

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
  /** Set by close({ force: true }) before the close ended: calls held or made from then on reject with it. */
  #forced: IsoswapError | null = null;
  /** close() has ended: nothing is left to force. */
  #closed = false;
  #watcher: LibraryWatcher | null = null;
  #versions!: VersionFactory;
  #queue!: SwapQueue;
  #fleet: FleetMember | null = null;
  /** Whom the diagnostics channels name: this host, or the AddonHost over it. */
  #publicHost: DiagnosticsHost = this;
  /** An addon host's conversion of arguments and results, or null. */
  #codec: CallCodec | null = null;

  /** Hosts are made by {@link createIsolatedHost}: `new` throws ERR_ILLEGAL_CONSTRUCTOR. */
  private constructor(opts: ResolvedOptions<F>, factory: typeof FACTORY) {
    if (factory !== FACTORY) throw illegalConstructor('IsolatedHost', 'createIsolatedHost');
    super();
    this.#opts = opts;
    // onPinned: 'process' may serve any version from a child: the block must be memory a
    // child can map too (a memfd, which the thread workers map as well). Where no build is
    // ever found pinned (Windows: pinned.ts), the host's isolation decides as usual.
    const blockIn = opts.onPinned === 'process' && platform().name === 'linux' ? 'process' : opts.isolation;
    this.#stateBlock = opts.stateBytes > 0 ? createStateBlock(opts.stateBytes, blockIn) : null;
    this.fns = hostFunctions(() => this.#queue?.current?.functions ?? {}, (name, args) => this.#call(name, args)) as HostFunctions<F>;
  }

  /** @internal createIsolatedHost's and createAddonHost's: a host serving its first
   *  version, or the typed error that kept it from serving (nothing left behind).
   *  `wrap` is handed the host before it starts (an AddonHost that passes its events on). */
  static async open<F extends FunctionTable>(opts: ResolvedOptions<F>, wrap?: (host: IsolatedHost<F>) => void): Promise<IsolatedHost<F>> {
    const host = new IsolatedHost(opts, FACTORY);
    wrap?.(host);
    await host.#start();
    return host;
  }

  /** @internal an AddonHost serves through this host: the diagnostics channels name it. */
  publishAs(host: DiagnosticsHost): void {
    this.#publicHost = host;
  }

  /** @internal an AddonHost converts what crosses (handles, callbacks, Buffers). */
  useCodec(codec: CallCodec): void {
    this.#codec = codec;
  }

  /** @internal the version serving now (an AddonHost reads what its exports are). */
  get serving(): Version {
    return this.#queue.current;
  }

  /** @internal */
  protected override observe<K extends keyof HostEventMap>(event: K, args: HostEventMap[K]): void {
    publishHostEvent(this.#publicHost, event, args);
  }

  /** Loads the first version; rejects (and cleans up) when it cannot serve. */
  async #start(): Promise<void> {
    try {
      this.#versions = VersionFactory.create(this.#opts, this.#stateBlock?.ref);
    } catch (err) {
      this.#stateBlock?.close();
      throw err;
    }
    this.#queue = new SwapQueue(this.#opts, this.#versions, this, this.#stateBlock);
    try {
      // A member serves the fleet's committed build, whatever its own `library` holds.
      const joined = this.#opts.fleet === undefined ? null : await FleetMember.join(this.#opts.fleet, this.#opts.library);
      this.#fleet = joined?.member ?? null;
      const first = await this.#queue.first(joined === null ? 'file' : joined.first);
      // Only once chokidar is ready: it reports nothing from before (docs/architecture.md).
      if (this.#opts.watch) await this.#startWatcher().catch(async (err) => { await this.#queue.discard(first); throw err; });
      this.emit(HOST_EVENTS.LOAD, first.info);
      this.#fleet?.serve(this);
    } catch (err) {
      await this.#fleet?.close();
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
    return this.#call(name, args) as Promise<ResultOf<F, K>>;
  }

  /**
   * Calls a declared function with options of its own: `signal` aborts it (ERR_CALL_ABORTED;
   * `details.started` false: it never left the host; true: it had reached the version,
   * where its work runs to its end and its result is dropped), `timeoutMs` replaces
   * `callTimeoutMs` for this call (ERR_CALL_TIMEOUT, the version replaced).
   *
   * @example
   * await host.callWith({ signal: AbortSignal.timeout(100), timeoutMs: 5000 }, 'do_tick', 1);
   */
  callWith<K extends FunctionName<F>>(options: CallOptions, name: K, ...args: ArgumentsOf<F, K>): Promise<ResultOf<F, K>> {
    let call: ReturnType<typeof resolveCallOptions>;
    try {
      call = resolveCallOptions(options);
    } catch (err) {
      return Promise.reject(IsoswapError.from(err, 'ERR_INVALID_OPTIONS', 'options'));
    }
    return abortable(call.signal, name, (mayStart) => this.#call(name, args, call.timeoutMs, mayStart)) as Promise<ResultOf<F, K>>;
  }

  /** Sends a call to the serving version; `mayStart` is asked right before it leaves. */
  #call(name: string, args: unknown[], timeoutMs?: number, mayStart?: () => boolean): Promise<unknown> {
    if (this.#queue.closed) return Promise.reject(hostClosed(`call ${name}`, this.#forced !== null));
    // Held calls are checked against the version they will reach (its functions may differ)
    const held = this.#queue.gate.waiting;
    if (held !== null) return held.then(() => this.#call(name, args, timeoutMs, mayStart));
    const { functions } = this.#queue.current;
    if (!this.#declares(name, functions)) return Promise.reject(unknownFunction(name, Object.keys(functions)));
    if (mayStart?.() === false) return Promise.reject(callAborted(name, false, undefined));
    const version = this.#queue.current;
    if (this.#codec === null) return version.call(name, args, timeoutMs);
    return this.#codec.call(version, name, args, (sent) => version.call(name, sent, timeoutMs));
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
    const version = queue.current;
    if (this.#codec === null) return version.callSync(name, args) as ResultOf<F, K>;
    return this.#codec.callSync(version, name, args, (sent) => version.callSync(name, sent)) as ResultOf<F, K>;
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
  reload(): Promise<VersionInfo> {
    if (this.#queue.closed) return Promise.reject(hostClosed(`reload of ${this.#opts.library}`));
    if (this.#fleet !== null) return Promise.reject(fleetMemberError('reload()', this.#opts.library));
    return this.#reportingFaults(this.#queue.reload('reload'), 'reload');
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
    if (this.#fleet !== null) return Promise.reject(fleetMemberError('rollback()', this.#opts.library));
    return this.#reportingFaults(this.#queue.enqueue(() => awaited(this.#queue.rollback())), 'rollback');
  }

  /**
   * Loads a build (default: what is at `library` now) into a standby version and runs every
   * check, the load hook and the optional smoke call, without serving it: `commit()` then
   * serves it, `discard()` drops it. Rejects as reload() does, the current version serving on.
   *
   * @example
   * const prepared = await host.prepare({ smoke: { call: 'do_tick', args: [0] } });
   * await prepared.commit(); // or prepared.discard()
   */
  prepare(options: PrepareOptions = {}): Promise<PreparedSwap> {
    if (this.#queue.closed) return Promise.reject(hostClosed(`prepare of ${this.#opts.library}`));
    if (this.#fleet !== null) return Promise.reject(fleetMemberError('prepare()', this.#opts.library));
    return PreparedSwap.prepare(this.#queue, options, 'reload');
  }

  /** @internal the fleet's prepare (src/fleet/fleet-member.ts): its swaps carry reason 'fleet' */
  prepareForFleet(build: FleetBuild, smoke: SmokeCall | undefined): Promise<PreparedBuild> {
    if (this.#queue.closed) return Promise.reject(hostClosed(`prepare of ${this.#opts.library}`));
    return PreparedSwap.prepare(this.#queue, { bytes: build.bytes, smoke }, 'fleet', build.sha256);
  }

  /** A crash or a hook past its deadline also reaches the `error` event, not only the
   *  caller of reload() or rollback() (a swap of the watcher reports its own failures);
   *  every failure reaches `isoswap:swap-failed`. */
  #reportingFaults<T>(swap: Promise<T>, reason: FailedSwapReason): Promise<T> {
    const reported = swap.catch((err: unknown) => {
      const error = IsoswapError.from(err, 'ERR_VERSION_CRASHED', `${reason} of ${this.#opts.library}`);
      publishFailedSwap(this.#publicHost, reason, error);
      if (error.details['phase'] !== undefined) this.reportError(error);
      throw err;
    });
    reported.catch(() => {}); // as the queued swap itself: a caller may attach its handler later
    return reported;
  }

  /**
   * Stops watching, lets calls in flight finish, retires every version, removes the
   * copies. Idempotent; later calls reject with ERR_HOST_CLOSED. With `force: true`
   * (also during a plain close) calls in flight and held reject at once with
   * ERR_HOST_CLOSED (`details.forced`), and every worker or child is ended without
   * `isoswap_unload`.
   *
   * @example
   * process.on('SIGINT', () => host.close());
   * process.on('SIGTERM', () => host.close({ force: true }));
   */
  close(options?: CloseOptions): Promise<void> {
    let force: boolean;
    try {
      force = resolveCloseOptions(options).force;
    } catch (err) {
      return Promise.reject(IsoswapError.from(err, 'ERR_INVALID_OPTIONS', 'options'));
    }
    if (force && this.#forced === null && !this.#closed) {
      this.#forced = hostClosed(`a call on ${this.#opts.library}`, true);
      this.#queue.forceEnd(this.#forced);
      this.#queue.gate.fail(this.#forced);
    }
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** `await using host = await createIsolatedHost(...)`: close() at the end of the scope. */
  [ASYNC_DISPOSE](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#queue.refuse(); // before any await: a call made after close() rejects
    if (this.#fleet !== null) await this.#fleet.close();
    await this.#watcher?.close();
    await this.#queue.close();
    this.#stateBlock?.close();
    await this.#versions.close();
    this.#closed = true;
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
      onError: (err) => {
        // A broken build or a failed swap; ERR_WATCH is the watcher's own failure
        if (err.code !== 'ERR_WATCH') publishFailedSwap(this.#publicHost, 'watch', err);
        this.reportError(err);
      },
    });
  }
}
