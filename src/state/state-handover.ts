import { IsoswapError } from '../errors.js';
import type { StateBlock } from './state-block.js';
import type { Version } from '../version/version.js';

/** What a state hand-over needs from its host. */
export interface HandOverContext {
  block: StateBlock;
  drainTimeoutMs: number;
  /** Runs isoswap_load; throws ERR_LOAD_HOOK on a refusal. */
  runLoadHook(version: Version): Promise<void>;
  reportError(error: IsoswapError): void;
}

/**
 * Hands the state block from `old` to `next` while the caller holds new calls back: no two
 * versions may touch the block at once. The old version drains and runs isoswap_unload,
 * the new one runs isoswap_load. If it refuses, the block is restored to what the unload
 * left and the old version loads again: a version's hooks always alternate load, unload,
 * load..., and it unloaded for the hand-over. It is the only version that can serve, so a
 * refusal of that second load is reported, not obeyed. An old version whose unload hook
 * times out or crashes is dead: the new one loads over what the block holds then (an
 * abandoned thread may still write it: docs/deadlines.md).
 *
 * @example
 * const release = gate.hold(); try { await handOverState(old, next, ctx); serve(next); } finally { release(); }
 */
export async function handOverState(old: Version, next: Version, ctx: HandOverContext): Promise<void> {
  if (!(await old.whenIdle(ctx.drainTimeoutMs))) {
    throw new IsoswapError('ERR_DRAIN_TIMEOUT', `version ${old.id} did not finish its calls within ${ctx.drainTimeoutMs} ms; it keeps serving`, { version: old.id });
  }
  let oldAlive = old.status === 'serving';
  if (oldAlive) {
    old.unloadHookRan = true;
    // Past hookTimeoutMs (or a crash in it) the old version is killed: the new one serves.
    // The host learns of it by the crash path, which replaces `old` if this swap fails.
    oldAlive = await old.runUnloadHook().then(() => true, (err: unknown) => {
      if (err instanceof IsoswapError && (err.code === 'ERR_HOOK_TIMEOUT' || err.code === 'ERR_VERSION_CRASHED')) return false;
      throw err;
    });
  }
  const snapshot = ctx.block.view.slice();
  try {
    await ctx.runLoadHook(next);
  } catch (err) {
    ctx.block.view.set(snapshot);
    if (oldAlive) {
      old.unloadHookRan = false;
      await ctx.runLoadHook(old).catch((refused: unknown) =>
        ctx.reportError(IsoswapError.from(refused, 'ERR_LOAD_HOOK', `re-attaching version ${old.id}`)));
    }
    throw err;
  }
}
