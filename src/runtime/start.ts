import type { Isolation } from '../options.js';
import type { LoadRequest } from './protocol.js';
import type { ChildProcessHandle } from './process/child-process-handle.js';
import { ProcessRuntime, processStandby } from './process/process-runtime.js';
import type { Standby as StandbyPool } from './standby.js';
import { ThreadRuntime, threadStandby } from './thread/thread-runtime.js';
import type { ThreadWorkerHandle } from './thread/thread-worker-handle.js';
import type { VersionRuntime } from './types.js';

/** Workers or child processes started ahead for the next load. */
export type Standby =
  | { isolation: 'thread'; pool: StandbyPool<ThreadWorkerHandle> }
  | { isolation: 'process'; pool: StandbyPool<ChildProcessHandle> };

/**
 * Starts the runtime of the chosen isolation and loads a version into it; with a
 * standby, its pre-started workers are used.
 *
 * @example
 * const runtime = await startRuntime('thread', request, 1, standby);
 */
export function startRuntime(isolation: Isolation, request: LoadRequest, threads: number, standby?: Standby | null): Promise<VersionRuntime> {
  if (isolation === 'thread') return ThreadRuntime.start(request, threads, standby?.isolation === 'thread' ? standby.pool : undefined);
  return ProcessRuntime.start(request, threads, standby?.isolation === 'process' ? standby.pool : undefined);
}

/**
 * The warm standby a host keeps for its next swap (or restart after a crash): `threads`
 * workers for thread isolation, `threads` forked children for process isolation. The
 * host closes it at close().
 *
 * @example
 * const standby = createStandby('thread', 1); ...; await standby.pool.close();
 */
export function createStandby(isolation: Isolation, threads: number): Standby {
  return isolation === 'thread'
    ? { isolation, pool: threadStandby(threads) }
    : { isolation, pool: processStandby(threads) };
}
