import { CallGate } from './call-gate.js';
import { hostClosed, IsoswapError } from '../errors.js';
import { HOST_EVENTS, type HostEmitter, type SwapReason } from '../events.js';
import { History } from './history.js';
import type { FunctionTable, ResolvedOptions } from '../options.js';
import type { LoadInfo } from '../wire/protocol.js';
import { SectionStore } from './section-store.js';
import type { StateBlock } from '../state/state-block.js';
import { HandOver } from './state-handover.js';
import { loadInfo } from '../version/load-info.js';
import type { Version } from '../version/version.js';
import type { BuildSource, VersionFactory } from '../version/version-factory.js';
import type { VersionInfo } from '../version/version-info.js';
import { awaited, awaitOnly, blocking, step, type Steps } from '../procedure.js';
import type { HeldWork, RecoveringQueue, SwapOptions } from './swap-contract.js';
import { CrashRecovery } from './crash-recovery.js';
import { pinnedError } from '../library/pinned.js';

/**
 * The serving version and the swaps that replace it, one at a time, in order: load the
 * build, `beforeSwap`, hand over (hooks, state block, section), serve, retire the old one.
 * It listens to the faults of the versions it serves and recovers from a crash
 * (CrashRecovery). Each swap is one procedure, which a blocked callSync can drive too (the
 * restart of a crashed version in process isolation).
 */
export class SwapQueue implements RecoveringQueue {
  readonly history: History;
  /** Holds new calls during a hand-over and while a crashed version restarts. */
  readonly gate = new CallGate();
  /** The hand-over calls are held for now, which a blocked callSync may finish. */
  #handOver: HandOver | null = null;
  /** The recovery from a crash calls are held for now, which a blocked callSync may drive. */
  #recovery: HeldWork | null = null;
  #closed = false;
  /** Versions loaded so far (a pinned build warns from the second on). */
  #loads = 0;
  #current!: Version;
  #chain: Promise<unknown> = Promise.resolve();
  #queuedReload: Promise<VersionInfo> | null = null;
  /** Each retirement under way, and its version. */
  readonly #retiring = new Map<Promise<void>, Version>();
  readonly #sections: SectionStore;
  readonly #crashes: CrashRecovery;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly versions: VersionFactory,
    private readonly host: HostEmitter,
    private readonly block: StateBlock | null,
  ) {
    this.history = new History(opts.keepBuilds);
    this.#sections = new SectionStore(opts.isolation, opts.library);
    this.#crashes = new CrashRecovery(this, versions, host, opts);
  }

  get current(): Version {
    return this.#current;
  }

  /** Closing or closed: no swap starts, calls are refused. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Loads and serves the first version; rejects (and cleans up) when it cannot serve. */
  async first(source: BuildSource = 'file'): Promise<Version> {
    const first = await awaited(this.#load(source));
    try {
      await awaited(first.attach(loadInfo(first.id, 'first', 0, 0)));
    } catch (err) {
      await this.discard(first);
      throw err;
    }
    this.#serve(first);
    return first;
  }

  /** Runs `task` after every swap queued before it. */
  enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task);
    this.#chain = result.catch(() => {});
    return result;
  }

  /** Calls made while one reload waits to start join it. */
  reload(reason: SwapReason): Promise<VersionInfo> {
    if (this.#queuedReload !== null) return this.#queuedReload;
    const queued = this.enqueue(() => {
      this.#queuedReload = null;
      return awaited(this.swap('file', reason));
    });
    this.#queuedReload = queued;
    return queued;
  }

  /** Held calls wait for `work` (a crash's recovery), which a blocked callSync may drive
   *  until it ends. */
  holdFor(work: HeldWork): () => void {
    this.#recovery = work;
    return () => { if (this.#recovery === work) this.#recovery = null; };
  }

  /** From a callSync that found calls held: finishes the hand-over, else drives the
   *  recovery from a crash, within their deadlines; the thread is blocked and would never
   *  see the event loop do it. */
  finishHeld(what: string): void {
    if (this.#handOver !== null) blocking(this.#handOver.run(what));
    else this.#recovery?.runBlocked(what);
  }

  /** Serves the newest earlier good build again; `failure` when a crash forced it. */
  *rollback(options: SwapOptions = {}): Steps<VersionInfo> {
    const from = this.#current;
    const target = this.#rollbackTarget();
    const info = yield* this.swap({ bytes: target.artifact.bytes!, functions: target.functions }, 'rollback', { ...options, sourceId: target.id });
    if (from.status !== 'failed') from.status = 'rolled-back'; // a crash's rollback: 'failed' says more
    return info;
  }

  /** The version a rollback serves again; ERR_NO_ROLLBACK when there is none. */
  #rollbackTarget(): Version {
    const target = this.history.rollbackTarget(this.#current);
    if (target === undefined) {
      throw new IsoswapError('ERR_NO_ROLLBACK', `no earlier good version of ${this.opts.library} to roll back to`, { file: this.opts.library });
    }
    return target;
  }

  /**
   * Loads a build and serves it. A blocked callSync drives it for a build served before
   * (the restart of a crashed version, its rollback), within `deadline`: no beforeSwap
   * then (the old version does not serve), each hook within what is left of it. Throws
   * the load's or the hand-over's error; the new version is then discarded.
   */
  *swap(source: BuildSource, reason: SwapReason, options: SwapOptions = {}): Steps<VersionInfo> {
    const { sourceId, onServing, failure = 0, deadline = null } = options;
    const started = performance.now();
    if (this.#closed) throw hostClosed(`reload of ${this.opts.library}`);
    const next = yield* this.#load(source, sourceId, this.#current.functions, deadline?.stepMs() ?? 0);
    const from = this.#current;
    let pauseMs: number | undefined;
    try {
      const hookTimeoutMs = deadline === null ? this.opts.hookTimeoutMs : within(deadline.stepMs(), this.opts.hookTimeoutMs);
      if (this.#closed) throw hostClosed(`reload of ${this.opts.library}`);
      this.#sections.check(from, next);
      if (from.status === 'serving') {
        yield* beforeSwap(this.host, { from: from.info, to: next.info, reason }, this.opts.hookTimeoutMs);
        if (this.#closed) throw hostClosed(`reload of ${this.opts.library}`);
      }
      pauseMs = yield* this.#handOverTo(from, next, loadInfo(next.id, reason, failure, from.id), hookTimeoutMs, `${reason} of ${this.opts.library}`);
    } catch (err) {
      yield* this.#discardStep(next);
      throw err;
    }
    const to = this.#served(from, next, reason, started, pauseMs, onServing);
    if (this.#closed) throw hostClosed(`reload of ${this.opts.library}`);
    return to;
  }

  /**
   * The first half of swap(), for a prepared swap (prepared-swap.ts): loads and checks a
   * build without serving it. Its isoswap_load runs now where the old version may keep
   * serving meanwhile; with a state block or section it must run inside the hand-over, at
   * commit (`attached` false).
   */
  async prepare(source: BuildSource, reason: SwapReason): Promise<{ next: Version; attached: boolean }> {
    if (this.#closed) throw hostClosed(`prepare of ${this.opts.library}`);
    const next = await awaited(this.#load(source, undefined, this.#current.functions));
    try {
      this.#sections.check(this.#current, next);
      const attached = this.block === null && !this.#sections.involved(this.#current, next);
      if (attached) await awaited(next.attach(loadInfo(next.id, reason, 0, this.#current.id), this.opts.hookTimeoutMs));
      return { next, attached };
    } catch (err) {
      await this.discard(next);
      throw err;
    }
  }

  /** The second half: `next`, prepared, serves (beforeSwap, the hand-over, retire the old). */
  async commitPrepared(next: Version, attached: boolean, reason: SwapReason, started: number): Promise<VersionInfo> {
    const from = this.#current;
    const what = `commit of ${this.opts.library}`;
    let pauseMs: number | undefined;
    try {
      if (this.#closed) throw hostClosed(what);
      if (next.status !== 'loading') throw new IsoswapError('ERR_VERSION_CRASHED', `prepared version ${next.id} of ${this.opts.library} died before its commit`, { version: next.id, file: this.opts.library });
      if (from.status === 'serving') await this.host.beforeSwap({ from: from.info, to: next.info, reason }, this.opts.hookTimeoutMs);
      if (this.#closed) throw hostClosed(what);
      if (!attached) pauseMs = await awaited(this.#handOverTo(from, next, loadInfo(next.id, reason, 0, from.id), this.opts.hookTimeoutMs, what));
    } catch (err) {
      await this.discard(next);
      throw err;
    }
    return this.#served(from, next, reason, started, pauseMs, undefined);
  }

  /** A version loaded for this queue, its faults (a crash, a deadline passed) recovered from. */
  *#load(source: BuildSource, sourceId?: number, serving?: FunctionTable, timeoutMs = 0): Steps<Version> {
    const version = yield* this.versions.load(source, sourceId, serving, timeoutMs);
    version.onFault((error) => this.#crashes.onCrash(version, error));
    version.runtime.onWarning((error) => this.host.reportWarning(error));
    // The first version is never unloaded before close; from the second on, each stays mapped.
    const first = this.#loads++ === 0;
    if (version.pinned !== null && version.isolation === 'thread' && !first) {
      this.host.reportWarning(pinnedError(version.pinned, this.opts.library, version.id, 'warn'));
    }
    return version;
  }

  /** After the hand-over: `next` serves, `from` retires, `swap` is emitted. */
  #served(from: Version, next: Version, reason: SwapReason, started: number, pauseMs: number | undefined, onServing: (() => void) | undefined): VersionInfo {
    this.#serve(next);
    onServing?.();
    this.retire(from);
    const to = next.info;
    this.host.emit(HOST_EVENTS.SWAP, { from: from.info, to, ms: performance.now() - started, reason, pauseMs });
    return to;
  }

  /**
   * Without a state block or a section, the new version's isoswap_load runs while the old
   * one serves on. With one, new calls are held while they change hands (see HandOver).
   * Returns how long calls were held, then.
   */
  *#handOverTo(from: Version, next: Version, info: LoadInfo, hookTimeoutMs: number, what: string): Steps<number | undefined> {
    if (this.block === null && !this.#sections.involved(from, next)) {
      yield* next.attach(info, hookTimeoutMs);
      return undefined;
    }
    // The new version owns the state from now on: the old one's handles must not touch it.
    from.handles.end('a state hand-over gave its state to the new version');
    const held = performance.now();
    const release = this.gate.hold();
    const handOver = new HandOver(from, next, {
      block: this.block,
      sections: this.#sections,
      drainTimeoutMs: this.opts.drainTimeoutMs,
      hookTimeoutMs,
      info,
      commit: () => {
        this.#serve(next); // before the gate opens, so that held calls go to the new version
        release();
      },
      reportError: (error) => this.host.reportError(error),
    });
    this.#handOver = handOver;
    try {
      yield* handOver.run(what);
      handOver.throwIfFailed();
      return performance.now() - held;
    } finally {
      this.#handOver = null;
      release();
    }
  }

  #serve(version: Version): void {
    if (this.#current === version) return;
    version.status = 'serving';
    this.#current = version;
    this.history.add(version);
  }

  /** Ends a version that will not serve; a thread that cannot be stopped is reported. */
  async discard(version: Version): Promise<void> {
    await version.discard('failed').catch((err) => this.host.reportError(IsoswapError.from(err, 'ERR_VERSION_CRASHED', `discarding version ${version.id}`)));
  }

  /** A blocked driver does not wait for the discard: it ends on the event loop. */
  readonly #discardStep = step((version: Version) => { void this.discard(version); }, (version: Version) => this.discard(version));

  retire(version: Version): void {
    const retiring = version.retire(this.opts.drainTimeoutMs)
      .catch((err) => {
        // A hook that timed out and then a thread that cannot be stopped: both are told.
        for (const e of err instanceof AggregateError ? err.errors : [err]) {
          this.host.reportError(IsoswapError.from(e, 'ERR_VERSION_CRASHED', `retiring version ${version.id}`));
        }
      })
      .then(() => {
        this.#retiring.delete(retiring);
        this.host.emit(HOST_EVENTS.RETIRED, version.info);
      });
    this.#retiring.set(retiring, version);
    this.#keepHandleVersions();
  }

  /** At most `keepVersions` retired versions are kept for their handles (Erlang keeps
   *  two): the oldest beyond that end theirs, and are torn down. */
  #keepHandleVersions(): void {
    const keep = this.opts.handles?.keepVersions;
    if (keep === undefined) return;
    const pinned = [...this.#retiring.values()].filter((version) => version.handles.count > 0);
    for (const version of pinned.slice(0, Math.max(0, pinned.length - keep))) {
      version.handles.end(`more than keepHandleVersions (${keep}) old versions had live handles`);
    }
  }

  /** close({ force: true }): the serving and the retiring versions end now, their calls
   *  in flight rejecting with `reason`; close() then tears them down without hooks. */
  forceEnd(reason: IsoswapError): void {
    this.#closed = true;
    for (const version of [this.#current, ...this.#retiring.values()]) version.forceEnd(reason);
  }

  /** Refuses new swaps and calls from now on (close() follows). */
  refuse(): void {
    this.#closed = true;
  }

  /** After the queued swaps: retires the current version and waits for every retiring one. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
    for (const version of [this.#current, ...this.#retiring.values()]) version.handles.end('the host was closed');
    this.retire(this.#current);
    while (this.#retiring.size > 0) await Promise.all(this.#retiring.keys());
  }
}

/** beforeSwap listeners run on the event loop; a blocked driver never replaces a serving
 *  version, so it never gets there. */
const beforeSwap = awaitOnly('beforeSwap', (host: HostEmitter, event: Parameters<HostEmitter['beforeSwap']>[0], timeoutMs: number) => host.beforeSwap(event, timeoutMs));

/** A hook's deadline within what is left of a blocked driver's bound (0: none). */
function within(leftMs: number, hookTimeoutMs: number): number {
  return leftMs === 0 ? hookTimeoutMs : Math.min(leftMs, hookTimeoutMs);
}
