import { IsoswapError } from '../errors.js';
import { SYNC_OP, type LoadInfo } from '../wire/protocol.js';

const OP_PREFIX = '\0isoswap.';

/** Whether a call name is a hand-over step (protocol.ts SYNC_OP), not a function. */
export function isSyncOp(name: string): boolean {
  return name.startsWith(OP_PREFIX);
}

/** What a service in a worker or child does for each hand-over step. */
export interface SyncOpTarget {
  runLoadHook(info?: LoadInfo): number;
  runUnloadHook(): boolean;
  /** The `isoswap_state` section's bytes (into `into`, else returned); nothing without one. */
  readSection(into: Uint8Array | undefined): unknown;
  writeSection(bytes: Uint8Array): unknown;
  /** Answers a mark on the blocking path (set by the worker entry that owns that path). */
  readonly onMark: ((seq: number) => void) | null;
  /** A call whose `_Out_` buffers travel back with its answer; libraries only. */
  callOut?(fn: string, args: unknown[], positions: number[]): unknown;
}

/** The worker end of SYNC_OP: one hand-over step, sent as a reserved call name. */
export function runSyncOp(target: SyncOpTarget, name: string, args: unknown[]): unknown {
  switch (name) {
    case SYNC_OP.loadHook: return target.runLoadHook(args[0] as LoadInfo | undefined);
    case SYNC_OP.unloadHook: return target.runUnloadHook();
    case SYNC_OP.readSection: return target.readSection(args[0] as Uint8Array | undefined);
    case SYNC_OP.writeSection: return target.writeSection(args[0] as Uint8Array);
    case SYNC_OP.mark: return target.onMark?.(args[0] as number);
    case SYNC_OP.callOut: if (target.callOut !== undefined) return target.callOut(...(args as [string, unknown[], number[]]));
    // falls through: addons have no declared buffers to copy back
    default: throw new IsoswapError('ERR_UNKNOWN_FUNCTION', `unknown operation ${name.slice(1)}`, { function: name });
  }
}
