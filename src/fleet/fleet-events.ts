import type { IsoswapError } from '../errors.js';

/** The events of a fleet (its coordinator). */
export const FLEET_EVENTS = {
  /** A member serves for the first time: `({ member, sha256, version })`. */
  JOIN: 'join',
  /** A member is gone: `({ member, crashed, why })`. */
  LEAVE: 'leave',
  /** Every member was asked to prepare: `({ swap, sha256, members })`. */
  PREPARE: 'prepare',
  /** One member prepared: `({ swap, member })`. */
  PREPARED: 'prepared',
  /** A swap aborted at prepare, nobody moved: `(error)` (ERR_FLEET_ABORTED). */
  ABORT: 'abort',
  /** One wave was told to cut over: `({ swap, sha256, wave, members })`. */
  COMMIT: 'commit',
  /** A swap done: `(result)`, with each member's cut-over time and the skew between them. */
  SWAP: 'swap',
  /** A canary failed its soak and the fleet was swapped back: `(error)` (ERR_FLEET_ROLLED_BACK). */
  ROLLBACK: 'rollback',
  /** A member reported a crash or an error: `({ member, type, code, sha256 })`. */
  FAILURE: 'failure',
  /** Something nobody awaited failed (a member that did not cut over): `(error)`. */
  ERROR: 'error',
} as const;

/** One member's cut-over. */
export interface MemberCutOver {
  member: string;
  version: number;
  /** When it served the new build (ms since the epoch, sub-millisecond; one machine's
   *  members share a clock, so the skew between them is meaningful there). */
  servedAt: number;
}

/** What `fleet.swap()` and `fleet.rollback()` resolve with. */
export interface FleetSwapResult {
  swap: number;
  sha256: string;
  members: MemberCutOver[];
  /** From the first member serving the new build to the last. */
  skewMs: number;
}

/** One member as `fleet.status()` lists it. */
export interface FleetMemberStatus {
  id: string;
  sha256: string;
  version: number;
}

export interface FleetEventMap {
  join: [{ member: string; sha256: string; version: number }];
  leave: [{ member: string; crashed: boolean; why: string }];
  prepare: [{ swap: number; sha256: string; members: string[] }];
  prepared: [{ swap: number; member: string }];
  abort: [IsoswapError];
  commit: [{ swap: number; sha256: string; wave: number; members: string[] }];
  swap: [FleetSwapResult];
  rollback: [IsoswapError];
  failure: [{ member: string; type: 'crash' | 'error' | 'left'; code: string; sha256: string }];
  error: [IsoswapError];
}
