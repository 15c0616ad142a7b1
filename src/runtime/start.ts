import type { Isolation } from '../options.js';
import type { LoadRequest } from '../protocol.js';
import { ProcessRuntime } from './process-runtime.js';
import { ProcessStandby } from './process-standby.js';
import { ThreadRuntime } from './thread-runtime.js';
import { ThreadStandby } from './thread-standby.js';
import type { VersionRuntime } from './types.js';

/**
 * Starts the runtime of the chosen isolation and loads a version into it; with a
 * standby, its pre-started workers are used.
 *
 * @example
 * const runtime = await startRuntime('thread', request, 1, standby);
 */
export function startRuntime(isolation: Isolation, request: LoadRequest, threads: number, standby?: Standby | null): Promise<VersionRuntime> {
  if (isolation === 'thread') return ThreadRuntime.start(request, threads, standby instanceof ThreadStandby ? standby : undefined);
  return ProcessRuntime.start(request, threads, standby instanceof ProcessStandby ? standby : undefined);
}

/** Workers or child processes started ahead for the next load. */
export type Standby = ThreadStandby | ProcessStandby;

/**
 * The warm standby a host keeps for its next swap (or restart after a crash): `threads`
 * workers for thread isolation, `threads` forked children for process isolation. The
 * host closes it at close().
 *
 * @example
 * const standby = createStandby('thread', 1); ...; await standby?.close();
 */
export function createStandby(isolation: Isolation, threads: number): Standby | null {
  return isolation === 'thread' ? new ThreadStandby(threads) : new ProcessStandby(threads);
}
