import type { SwapReason } from '../events.js';
import type { Steps } from '../procedure.js';
import type { Deadline } from '../transport/blocking-wait.js';
import type { Version } from '../version/version.js';
import type { BuildSource } from '../version/version-factory.js';
import type { VersionInfo } from '../version/version-info.js';
import type { CallGate } from './call-gate.js';

/** How a swap is asked for, besides its build and reason. */
export interface SwapOptions {
  /** The version whose build this one serves again (rollback, restart). */
  sourceId?: number | undefined;
  /** Runs once the new version serves, before `swap` is emitted. */
  onServing?: (() => void) | undefined;
  /** How the version it replaces failed (a crash forced the swap), else 0. */
  failure?: number | undefined;
  /** A blocked callSync's bound over the whole swap, else none. */
  deadline?: Deadline | null | undefined;
}

/** Calls held for work that a blocked callSync can finish itself. */
export interface HeldWork {
  /** Finishes it from a callSync whose thread is blocked; ERR_SWAP_IN_PROGRESS when it
   *  cannot (the event loop then does). */
  runBlocked(what: string): void;
}

/** The swap queue as crash recovery drives it (SwapQueue implements it; recovery sits
 *  below the queue, which owns it). */
export interface RecoveringQueue {
  readonly current: Version;
  readonly closed: boolean;
  readonly gate: CallGate;
  enqueue<T>(task: () => Promise<T>): Promise<T>;
  swap(source: BuildSource, reason: SwapReason, options?: SwapOptions): Steps<VersionInfo>;
  rollback(options?: SwapOptions): Steps<VersionInfo>;
  /** Held calls wait for `work`, which a blocked callSync may drive; the function returned
   *  ends that. */
  holdFor(work: HeldWork): () => void;
}
