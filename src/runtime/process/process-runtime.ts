import { inPhase, IsoswapError } from '../../errors.js';
import { Deadline } from '../../transport/blocking-wait.js';
import { NOT_FAST } from '../../transport/call-channel.js';
import { SYNC_OP, type LoadReport, type LoadRequest, type StateRef } from '../../wire/protocol.js';
import { ChildProcessHandle } from './child-process-handle.js';
import { platform } from '../../platform/platform.js';
import type { ChildExtras } from '../../wire/inherited-fds.js';
import { loadAll, PooledRuntime } from '../pooled-runtime.js';
import { Standby } from '../standby.js';
import type { VersionRuntime } from '../types.js';

/**
 * Pre-forked children for the next swap or crash restart.
 *
 * @example
 * const standby = processStandby(1, hostChildExtras(state, [])); await ProcessRuntime.start(request, 1, standby);
 */
export function processStandby(size: number, extras: ChildExtras = {}): Standby<ChildProcessHandle> {
  // Started once it answers a request (a no-op without a library loaded).
  return new Standby(size, () => new ChildProcessHandle(extras), (child) => child.request((r) => r.runLoadHook()));
}

/**
 * What every child of a host inherits: the state block's memfd (as `state`), and
 * `libraryPath` ahead of LD_LIBRARY_PATH (Windows: PATH), which the loader reads once, when a process
 * starts, so a running host cannot extend its own.
 *
 * @example
 * new ChildProcessHandle(hostChildExtras({ kind: 'memfd', fd: 21, bytes: 4096 }, ['/opt/deps']));
 */
export function hostChildExtras(state: StateRef | undefined, libraryPath: readonly string[]): ChildExtras {
  const { libraryPathVariable: variable, pathSeparator } = platform();
  const fromEnv = process.env[variable];
  return {
    fds: state?.kind === 'memfd' ? { state: state.fd } : {},
    env: libraryPath.length === 0 ? {} : { [variable]: [...libraryPath, ...(fromEnv ? [fromEnv] : [])].join(pathSeparator) },
  };
}

/**
 * A version served by `processes` child processes, each with its own dlopen of the same
 * copy: a segfault, abort() or exit() in the library kills one of them, never the host,
 * and a call stuck in native code can be ended (SIGKILL). Calls go to the least busy
 * process; hooks run once per version, in the first one. The state block is a memfd
 * every process inherits and maps, so it outlives a process that dies.
 */
export class ProcessRuntime extends PooledRuntime<ChildProcessHandle> implements VersionRuntime {
  /** Blocks until the call returns: on the least busy child's ring, or for calls the ring
   *  does not carry over its pipes (not IPC, whose replies need the event loop);
   *  ERR_CALL_TIMEOUT after `timeoutMs` (0: no limit). */
  readonly callSync = (name: string, args: unknown[], timeoutMs = 0): unknown => {
    const child = this.leastBusy();
    const result = child.channel === null ? NOT_FAST : child.channel.callSync(name, args, timeoutMs);
    return result === NOT_FAST ? child.syncCall.call(name, args, timeoutMs) : result;
  };

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
      const { handles, report } = await loadAll(request, processes, standby, () => new ChildProcessHandle(hostChildExtras(request.state, request.libraryPath ?? [])), async (c) => {
        const loaded = await c.request((r) => r.load({ ...request, processRing: c.channel !== null }));
        c.channel?.open(loaded, undefined); // views over the state block are copied, as over IPC
        return loaded;
      });
      return new ProcessRuntime(report, handles);
    } catch (err) {
      throw loadError(err, request.library);
    }
  }

  /**
   * The same without the event loop, for the restart of a crashed version driven by a
   * blocked callSync: children whose warm-up settled (else new ones: fork is synchronous,
   * and a child reads the request written to its pipe once it has started), the load sent
   * on each one's blocking path. Throws as `start`, or ERR_CALL_TIMEOUT past `timeoutMs`
   * (0: none); the children are then killed.
   *
   * @example
   * const rt = ProcessRuntime.startSync(request, 1, standby, 5000);
   */
  static startSync(request: LoadRequest, processes: number, standby: Standby<ChildProcessHandle>, timeoutMs: number): ProcessRuntime {
    const handles = Array.from({ length: processes }, () => standby.takeSettled());
    handles.forEach((h, i) => { h.label = `${h.kind} ${i} of ${request.library}`; });
    const deadline = new Deadline(`loading ${request.library}`, timeoutMs);
    try {
      const reports = handles.map((c) => {
        const loaded = c.syncCall.call(SYNC_OP.load, [{ ...request, processRing: c.channel !== null }], deadline.stepMs()) as LoadReport;
        c.channel?.open(loaded, undefined);
        return loaded;
      });
      return new ProcessRuntime(reports[0]!, handles);
    } catch (err) {
      for (const h of handles) void h.kill();
      throw loadError(inPhase(err, 'constructor'), request.library);
    }
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    const child = this.leastBusy();
    return child.channel?.call(name, args) ?? child.request((r) => r.call(name, args));
  }
}

/** A death while loading says so, and names the file. */
function loadError(reason: unknown, library: string): unknown {
  if (!(reason instanceof IsoswapError) || reason.code !== 'ERR_VERSION_CRASHED') return reason;
  return new IsoswapError('ERR_VERSION_CRASHED', `${library} crashed its process while loading: ${reason.message}`,
    { ...reason.details, file: library });
}
