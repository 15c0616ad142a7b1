import { IsoswapError, swapInProgress } from '../errors.js';
import type { LoadInfo } from '../wire/protocol.js';
import { blocking, onEventLoop, type Steps } from '../procedure.js';
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
 * Two drivers, whichever comes first, run the same steps: the event loop (`awaited`), or
 * a `callSync` that found calls held (`blocking`), whose thread is blocked and cannot see
 * the event loop. Only the drain waits differently (awaited answers, or answers read on
 * the blocking paths); the steps after it are one synchronous block over the blocking
 * paths, so neither driver can ever find the other half-way.
 */
export class HandOver {
  #outcome: Outcome | null = null;
  /** The old version serves (it is not a crashed one being replaced). */
  readonly #live: boolean;
  /** Inside the synchronous block: a callSync made from one of its listeners must not
   *  start it again. */
  #finishing = false;

  constructor(private readonly old: Version, private readonly next: Version, private readonly ctx: HandOverContext) {
    this.#live = old.status === 'serving';
  }

  /**
   * Drains the old version, then hands over. A drain past drainTimeoutMs fails the swap
   * on the event loop (ERR_DRAIN_TIMEOUT: the old version serves on); a blocked callSync
   * throws ERR_SWAP_IN_PROGRESS instead, and leaves the decision to the event loop. What
   * the hand-over failed with is kept for {@link throwIfFailed}: a failed swap is not a
   * blocked caller's error.
   */
  *run(what: string): Steps<void> {
    if (this.#finishing) throw swapInProgress(what, `version ${this.next.id} is being handed over by the callSync this one was made under`);
    if (this.#outcome === null && this.#live && !(yield* this.old.drain(this.ctx.drainTimeoutMs, what)) && this.#outcome === null) {
      const late = `version ${this.old.id} still had calls in flight after drainTimeoutMs (${this.ctx.drainTimeoutMs} ms)`;
      if (!(yield* onEventLoop())) throw swapInProgress(what, late);
      this.#outcome = { ok: false, error: new IsoswapError('ERR_DRAIN_TIMEOUT',
        `version ${this.old.id} did not finish its calls within ${this.ctx.drainTimeoutMs} ms; it keeps serving`, { version: this.old.id }) };
    }
    if (this.#outcome === null) this.#finish();
  }

  /** Throws what a finished hand-over failed with (ERR_LOAD_HOOK, ERR_HOOK_TIMEOUT...):
   *  for a driver that answers for the swap. */
  throwIfFailed(): void {
    if (this.#outcome?.ok === false) throw this.#outcome.error;
  }

  #finish(): void {
    const { block, sections, hookTimeoutMs } = this.ctx;
    this.#finishing = true;
    try {
      let oldAttached = this.#live;
      if (this.#live) {
        try {
          blocking(this.old.detach(hookTimeoutMs));
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
        blocking(this.next.attach(this.ctx.info, hookTimeoutMs));
      } catch (err) {
        if (snapshot !== undefined) block!.view.set(snapshot);
        if (oldAttached) this.#reattach();
        throw err;
      }
      this.ctx.commit();
      this.#outcome = { ok: true };
    } catch (error) {
      this.#outcome = { ok: false, error };
    } finally {
      this.#finishing = false;
    }
  }

  #reattach(): void {
    try {
      blocking(this.old.attach(loadInfo(this.old.id, 'reattach', 0, this.next.id), this.ctx.hookTimeoutMs));
    } catch (refused) {
      this.ctx.reportError(IsoswapError.from(refused, 'ERR_LOAD_HOOK', `re-attaching version ${this.old.id}`));
    }
  }
}
