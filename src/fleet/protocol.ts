import type { SerializedIsoswapError } from '../errors.js';

/**
 * The fleet protocol, one for every transport (docs/fleet.md): what a coordinator asks of
 * a member, what a member answers and reports, and the two links each transport gives
 * (`CoordinatorLink` in the coordinator, `MemberLink` in every member).
 */

/** A call a prepared build must answer without failing before it may be committed. */
export interface SmokeCall {
  call: string;
  args?: unknown[];
}

/** What the coordinator asks of a member; `swap` numbers one fleet swap. */
export type FleetRequest =
  /** Load and check the build named by `sha256`; keep it unserved until commit or abort,
   *  at most `holdMs` (then discard it alone: the coordinator is gone). */
  | { type: 'prepare'; swap: number; sha256: string; holdMs: number; smoke?: SmokeCall | undefined }
  /** Serve the build prepared for `swap`; if none is prepared (it was discarded, or the
   *  member joined since), prepare `sha256` and serve it at once. */
  | { type: 'commit'; swap: number; sha256: string }
  | { type: 'abort'; swap: number };

/** A member's answer to a request. */
export type FleetReply =
  | { ok: true; version: number; sha256: string; servedAt?: number | undefined }
  | { ok: false; error: SerializedIsoswapError };

/** What a member serves: the build's sha256 and the host's version id. */
export interface Served {
  sha256: string;
  version: number;
}

/** What a member tells the coordinator unasked. */
export type MemberReport =
  /** It serves (after its first load, a crash restart, a catch-up): joined from the first. */
  | ({ type: 'serving' } & Served)
  /** Its serving version crashed, or it reported an error: counted against a canary. */
  | { type: 'crash' | 'error'; sha256: string; code: string };

/** A canary wave serving its build ahead of the fleet's decision. */
export interface CanaryWave {
  sha256: string;
  members: string[];
}

/** The coordinator end of a transport. */
export interface CoordinatorLink {
  /** Starts listening: members met from now on are told through `events`. */
  start(events: CoordinatorEvents): Promise<void>;
  /** Sends `request` to `member`; rejects (ERR_FLEET_TRANSPORT) when it cannot be sent or
   *  the member or the link is lost before it answers, and past `timeoutMs`. */
  request(member: string, request: FleetRequest, timeoutMs: number): Promise<FleetReply>;
  /** Makes a build's bytes fetchable by its sha256. */
  store(sha256: string, bytes: Buffer): Promise<void>;
  /** Records `sha256` as committed unless the fleet already has a committed build (Redis:
   *  a coordinator started again over a running fleet); returns the committed one. */
  initial(sha256: string): Promise<string>;
  /** Records the fleet's committed build, where members that join or reconnect read it
   *  (and forgets the canary: the decision covers every member). */
  commit(sha256: string): Promise<void>;
  /** Records that `members` (a canary wave) serve `sha256` ahead of the decision, so that
   *  one that reconnects during its soak keeps serving it; `null` forgets it (the swap
   *  failed: the canary goes back). */
  canary(wave: CanaryWave | null): Promise<void>;
  close(): Promise<void>;
}

export interface CoordinatorEvents {
  report(member: string, report: MemberReport): void;
  /** A member is gone: `crashed` unless it said goodbye. */
  leave(member: string, crashed: boolean, why: string): void;
}

/** The member end of a transport. */
export interface MemberLink {
  /** Waits (at most `timeoutMs`) for a fleet: its member id and committed build. */
  join(timeoutMs: number): Promise<{ id: string; committed: string }>;
  /** A build's bytes by its sha256 (checked by the caller). */
  fetch(sha256: string): Promise<Buffer>;
  /** Requests from the coordinator go to `handler`; `lost` runs when the link to the fleet
   *  breaks (prepared builds are then discarded); `rejoined` when it is back, with the
   *  build this member is to serve (Redis: a reconnect reads the committed build, or the
   *  canary's when this member is in a canary wave under soak). */
  serve(handler: (request: FleetRequest) => Promise<FleetReply>, lost: () => void, rejoined: (committed: string) => void): void;
  report(report: MemberReport): void;
  close(): Promise<void>;
}
