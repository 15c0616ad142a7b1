import { IsoswapError, swapInProgress } from '../errors.js';
import type { LoadInfo } from '../wire/protocol.js';
import { Deadline } from '../transport/blocking-wait.js';
import { loadInfo } from '../version/load-info.js';
import type { Version } from '../version/version.js';
import type { SectionStore } from './section-store.js';
import type { StateBlock } from '../state/state-block.js';

/** What a hand-over needs from its host. */
export interface HandOverContext {
  block: StateBlock | null;
  sections: SectionStore;
  drainTimeoutMs: number;
  hookTimeoutMs: number;
  /** What the new version's isoswap_load_ex is told. */
  info: LoadInfo;
  /** Makes the new version current: in the same synchronous step as its isoswap_load, so
   *  that no call can reach either version between the two. */
  commit(): void;
  reportError(error: IsoswapError): void;
}

type Outcome = { ok: true } | { ok: false; error: unknown };

/**
 * Hands the state block and the `isoswap_state` section from `old` to `next` while the
 * host holds new calls: no two versions touch them at once. The old version drains, runs
 * isoswap_unload, its section is read; the new one gets the section, runs isoswap_load
 * and becomes current. If it refuses, the block is restored to what the unload left and
 * the old version loads again (its hooks always alternate); a refusal of that second load
 * is reported, not obeyed: nothing else can serve.
 *
 * Two drivers, whichever comes first: `run()` on the event loop, or `runSync()` from a
 * `callSync` that found calls held, whose thread is blocked and cannot see the event loop.
 * Only the drain differs (awaited answers, or answers read on the blocking paths); the
 * steps after it are one synchronous block over the blocking paths, so neither driver can
 * ever find the other half-way.
 *
 * @example
 * const handOver = new HandOver(old, next, ctx); await handOver.run(); // or handOver.runSync('callSync do_tick')
 */
export class HandOver {
  #outcome: Outcome | null = null;
  /** The old version serves (it is not a crashed one being replaced). */
  readonly #live: boolean;

  constructor(private readonly old: Version, private readonly next: Version, private readonly ctx: HandOverContext) {
    this.#live = old.status === 'serving';
  }

  /** On the event loop; throws ERR_DRAIN_TIMEOUT, ERR_LOAD_HOOK, ERR_HOOK_TIMEOUT... */
  async run(): Promise<void> {
    if (this.#outcome === null && this.#live && !(await this.old.whenIdle(this.ctx.drainTimeoutMs)) && this.#outcome === null) {
      this.#outcome = { ok: false, error: new IsoswapError('ERR_DRAIN_TIMEOUT',
        `version ${this.old.id} did not finish its calls within ${this.ctx.drainTimeoutMs} ms; it keeps serving`, { version: this.old.id }) };
    }
    if (this.#outcome === null) this.#finish();
    this.throwIfFailed();
  }

  /** Throws what a finished hand-over failed with (ERR_LOAD_HOOK, ERR_HOOK_TIMEOUT...):
   *  for a driver that, unlike a callSync, answers for the swap. */
  throwIfFailed(): void {
    if (this.#outcome?.ok === false) throw this.#outcome.error;
  }

  /**
   * From a blocked callSync: drains the old version over the blocking paths, then finishes.
   * Throws ERR_SWAP_IN_PROGRESS when the drain outlives drainTimeoutMs (the event-loop
   * driver then decides). A failed swap is not the caller's error: the old version serves.
   */
  runSync(what: string): void {
    if (this.#outcome !== null) return;
    if (this.#live) {
      try {
        this.old.settleSync(new Deadline(what, this.ctx.drainTimeoutMs));
      } catch (err) {
        if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') throw err;
        throw swapInProgress(what, `version ${this.old.id} still had calls in flight after drainTimeoutMs (${this.ctx.drainTimeoutMs} ms)`);
      }
    }
    this.#finish();
  }

  #finish(): void {
    const { block, sections, hookTimeoutMs } = this.ctx;
    try {
      let oldAttached = this.#live;
      if (this.#live) {
        try {
          this.old.detachSync(hookTimeoutMs);
          sections.take(this.old, hookTimeoutMs);
        } catch (err) {
          // Stuck or dead in isoswap_unload: it cannot serve again; the swap goes on.
          this.ctx.reportError(IsoswapError.from(err, 'ERR_HOOK_TIMEOUT', `unloading version ${this.old.id}`));
          oldAttached = false;
        }
      }
      const snapshot = block?.view.slice();
      try {
        sections.give(this.next, hookTimeoutMs);
        this.next.attachSync(this.ctx.info, hookTimeoutMs);
      } catch (err) {
        if (snapshot !== undefined) block!.view.set(snapshot);
        if (oldAttached) this.#reattach();
        throw err;
      }
      this.ctx.commit();
      this.#outcome = { ok: true };
    } catch (error) {
      this.#outcome = { ok: false, error };
    }
  }

  #reattach(): void {
    try {
      this.old.attachSync(loadInfo(this.old.id, 'reattach', 0, this.next.id), this.ctx.hookTimeoutMs);
    } catch (refused) {
      this.ctx.reportError(IsoswapError.from(refused, 'ERR_LOAD_HOOK', `re-attaching version ${this.old.id}`));
    }
  }
}
