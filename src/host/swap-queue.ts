import { CallGate } from './call-gate.js';
import { hostClosed, IsoswapError } from '../errors.js';
import { HOST_EVENTS, type HostEmitter, type SwapReason } from '../events.js';
import { History } from './history.js';
import type { ResolvedOptions } from '../options.js';
import type { LoadInfo } from '../wire/protocol.js';
import { SectionStore } from './section-store.js';
import type { StateBlock } from '../state/state-block.js';
import { HandOver } from './state-handover.js';
import { loadInfo } from '../version/load-info.js';
import type { Version } from '../version/version.js';
import type { BuildSource, VersionFactory } from '../version/version-factory.js';
import type { VersionInfo } from '../version/version-info.js';

/**
 * The serving version and the swaps that replace it, one at a time, in order: load the
 * build, `beforeSwap`, hand over (hooks, state block, section), serve, retire the old one.
 */
export class SwapQueue {
  readonly history: History;
  /** Holds new calls during a hand-over and while a crashed version restarts. */
  readonly gate = new CallGate();
  /** The hand-over calls are held for now, which a blocked callSync may finish. */
  pending: HandOver | null = null;
  /** The recovery from a crash calls are held for now, which a blocked callSync may drive. */
  recovery: { runSync(what: string): void } | null = null;
  closed = false;
  #current!: Version;
  #chain: Promise<unknown> = Promise.resolve();
  #queuedReload: Promise<VersionInfo> | null = null;
  readonly #retiring = new Set<Promise<void>>();
  readonly #sections: SectionStore;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly versions: VersionFactory,
    private readonly host: HostEmitter,
    private readonly block: StateBlock | null,
  ) {
    this.history = new History(opts.keepBuilds);
    this.#sections = new SectionStore(opts.isolation, opts.library);
  }

  get current(): Version {
    return this.#current;
  }

  /** Loads and serves the first version; rejects (and cleans up) when it cannot serve. */
  async first(source: BuildSource = 'file'): Promise<Version> {
    const first = await this.versions.load(source);
    try {
      await first.attach(loadInfo(first.id, 'first', 0, 0));
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
      return this.swap('file', reason);
    });
    this.#queuedReload = queued;
    return queued;
  }

  /** Serves the newest earlier good build again; `failure` when a crash forced it. */
  async rollback(onServing?: () => void, failure = 0): Promise<VersionInfo> {
    const from = this.#current;
    const target = this.rollbackTarget();
    const info = await this.swap({ bytes: target.artifact.bytes!, functions: target.functions }, 'rollback', target.id, onServing, failure);
    if (from.status !== 'failed') from.status = 'rolled-back'; // a crash's rollback: 'failed' says more
    return info;
  }

  /** The version a rollback serves again; ERR_NO_ROLLBACK when there is none. */
  rollbackTarget(): Version {
    const target = this.history.rollbackTarget(this.#current);
    if (target === undefined) {
      throw new IsoswapError('ERR_NO_ROLLBACK', `no earlier good version of ${this.opts.library} to roll back to`, { file: this.opts.library });
    }
    return target;
  }

  /** `onServing` runs once the new version serves, before `swap` is emitted. */
  async swap(source: BuildSource, reason: SwapReason, sourceId?: number, onServing?: () => void, failure = 0): Promise<VersionInfo> {
    const started = performance.now();
    if (this.closed) throw hostClosed(`reload of ${this.opts.library}`);
    const next = await this.versions.load(source, sourceId, this.#current.functions);
    const from = this.#current;
    let pauseMs: number | undefined;
    try {
      if (this.closed) throw hostClosed(`reload of ${this.opts.library}`);
      this.#sections.check(from, next);
      if (from.status === 'serving') {
        await this.host.beforeSwap({ from: from.info, to: next.info, reason }, this.opts.hookTimeoutMs);
        if (this.closed) throw hostClosed(`reload of ${this.opts.library}`);
      }
      pauseMs = await this.#handOver(from, next, loadInfo(next.id, reason, failure, from.id));
    } catch (err) {
      await this.discard(next);
      throw err;
    }
    const to = this.#served(from, next, reason, started, pauseMs, onServing);
    if (this.closed) throw hostClosed(`reload of ${this.opts.library}`);
    return to;
  }

  /**
   * The first half of swap(), for a prepared swap (prepared-swap.ts): loads and checks a
   * build without serving it. Its isoswap_load runs now where the old version may keep
   * serving meanwhile; with a state block or section it must run inside the hand-over, at
   * commit (`attached` false).
   */
  async prepare(source: BuildSource, reason: SwapReason): Promise<{ next: Version; attached: boolean }> {
    if (this.closed) throw hostClosed(`prepare of ${this.opts.library}`);
    const next = await this.versions.load(source, undefined, this.#current.functions);
    try {
      this.#sections.check(this.#current, next);
      const attached = this.block === null && !this.#sections.involved(this.#current, next);
      if (attached) await next.attach(loadInfo(next.id, reason, 0, this.#current.id));
      return { next, attached };
    } catch (err) {
      await this.discard(next);
      throw err;
    }
  }

  /** The second half: `next`, prepared, serves (beforeSwap, the hand-over, retire the old). */
  async commitPrepared(next: Version, attached: boolean, reason: SwapReason, started: number): Promise<VersionInfo> {
    const from = this.#current;
    let pauseMs: number | undefined;
    try {
      if (this.closed) throw hostClosed(`commit of ${this.opts.library}`);
      if (next.status !== 'loading') throw new IsoswapError('ERR_VERSION_CRASHED', `prepared version ${next.id} of ${this.opts.library} died before its commit`, { version: next.id, file: this.opts.library });
      if (from.status === 'serving') await this.host.beforeSwap({ from: from.info, to: next.info, reason }, this.opts.hookTimeoutMs);
      if (this.closed) throw hostClosed(`commit of ${this.opts.library}`);
      if (!attached) pauseMs = await this.#handOver(from, next, loadInfo(next.id, reason, 0, from.id));
    } catch (err) {
      await this.discard(next);
      throw err;
    }
    return this.#served(from, next, reason, started, pauseMs, undefined);
  }

  /**
   * swap() in one synchronous block, for a version already loaded (VersionFactory.loadSync)
   * that replaces a crashed one: a blocked callSync drives it. No beforeSwap (the old
   * version does not serve); the hand-over's steps run over the blocking paths, each
   * within `hookTimeoutMs`. Throws as swap() does; `next` is then discarded.
   */
  swapSync(next: Version, reason: SwapReason, started: number, onServing: () => void, failure: number, hookTimeoutMs: number): VersionInfo {
    const from = this.#current;
    const held = performance.now();
    try {
      if (this.closed) throw hostClosed(`reload of ${this.opts.library}`);
      this.#sections.check(from, next);
      const handOver = this.#handOverOf(from, next, loadInfo(next.id, reason, failure, from.id), () => this.#serve(next), hookTimeoutMs);
      handOver.runSync(`${reason} of ${this.opts.library}`);
      handOver.throwIfFailed();
    } catch (err) {
      void this.discard(next);
      throw err;
    }
    const pauseMs = this.block === null && !this.#sections.involved(from, next) ? undefined : performance.now() - held;
    return this.#served(from, next, reason, started, pauseMs, onServing);
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
  async #handOver(from: Version, next: Version, info: LoadInfo): Promise<number | undefined> {
    if (this.block === null && !this.#sections.involved(from, next)) {
      await next.attach(info);
      return undefined;
    }
    const held = performance.now();
    const release = this.gate.hold();
    const handOver = this.#handOverOf(from, next, info, () => {
      this.#serve(next); // before the gate opens, so that held calls go to the new version
      release();
    }, this.opts.hookTimeoutMs);
    this.pending = handOver;
    try {
      await handOver.run();
      return performance.now() - held;
    } finally {
      this.pending = null;
      release();
    }
  }

  #handOverOf(from: Version, next: Version, info: LoadInfo, commit: () => void, hookTimeoutMs: number): HandOver {
    return new HandOver(from, next, {
      block: this.block,
      sections: this.#sections,
      drainTimeoutMs: this.opts.drainTimeoutMs,
      hookTimeoutMs,
      info,
      commit,
      reportError: (error) => this.host.reportError(error),
    });
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
    this.#retiring.add(retiring);
  }

  /** After the queued swaps: retires the current version and waits for every retiring one. */
  async close(): Promise<void> {
    this.closed = true;
    await this.#chain;
    this.retire(this.#current);
    while (this.#retiring.size > 0) await Promise.all(this.#retiring);
  }
}
