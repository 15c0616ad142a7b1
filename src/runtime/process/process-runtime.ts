import { IsoswapError } from '../../errors.js';
import type { LoadRequest } from '../protocol.js';
import { ChildProcessHandle } from './child-process-handle.js';
import { loadAll, PooledRuntime } from '../pooled-runtime.js';
import { Standby } from '../standby.js';
import type { VersionRuntime } from '../types.js';

/**
 * Pre-forked children for the next swap or crash restart.
 *
 * @example
 * const standby = processStandby(1); await ProcessRuntime.start(request, 1, standby);
 */
export function processStandby(size: number): Standby<ChildProcessHandle> {
  // Started once it answers a request (a no-op without a library loaded).
  return new Standby(size, () => new ChildProcessHandle(), (child) => child.request((r) => r.runLoadHook()));
}

/**
 * A version served by `processes` child processes, each with its own dlopen of the same
 * copy: a segfault, abort() or exit() in the library kills one of them, never the host,
 * and a call stuck in native code can be ended (SIGKILL). Calls go to the least busy
 * process; hooks run once per version, in the first one. The state block is a /dev/shm
 * file every process maps, so it outlives a process that dies.
 */
export class ProcessRuntime extends PooledRuntime<ChildProcessHandle> implements VersionRuntime {
  /** Blocks until the call returns, over the least busy child's pipes (not IPC, whose
   *  replies need the event loop); ERR_CALL_TIMEOUT after `timeoutMs` (0: no limit). */
  readonly callSync = (name: string, args: unknown[], timeoutMs = 0): unknown =>
    this.leastBusy().syncCall.call(name, args, timeoutMs);

  /**
   * Forks `processes` children (taken from `standby` when given) and loads the version in
   * each; if any fails (a typed load error, or ERR_VERSION_CRASHED when the library
   * killed its process while loading), all are ended and that error is thrown.
   *
   * @example
   * const rt = await ProcessRuntime.start({ library, copy, functions }, 1);
   */
  static async start(request: LoadRequest, processes: number, standby?: Standby<ChildProcessHandle>): Promise<ProcessRuntime> {
    try {
      const { handles, report } = await loadAll(request, processes, standby, () => new ChildProcessHandle(), (c) => c.request((r) => r.load(request)));
      return new ProcessRuntime(report, handles);
    } catch (err) {
      throw loadError(err, request.library);
    }
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    return this.leastBusy().request((r) => r.call(name, args));
  }
}

/** A death while loading says so, and names the file. */
function loadError(reason: unknown, library: string): unknown {
  if (!(reason instanceof IsoswapError) || reason.code !== 'ERR_VERSION_CRASHED') return reason;
  return new IsoswapError('ERR_VERSION_CRASHED', `${library} crashed its process while loading: ${reason.message}`,
    { ...reason.details, file: library });
}
