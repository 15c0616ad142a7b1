import { IsoswapError } from '../../errors.js';
import { step, type Steps } from '../../procedure.js';
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
 */
export function processStandby(size: number, extras: ChildExtras = {}): Standby<ChildProcessHandle> {
  // Started once it answers a request (a no-op without a library loaded).
  return new Standby(size, () => new ChildProcessHandle(extras), (child) => child.request((r) => r.runLoadHook()));
}

/**
 * What every child of a host inherits: the state block's memfd (as `state`), and
 * `libraryPath` ahead of LD_LIBRARY_PATH (Windows: PATH), which the loader reads once, when a process
 * starts, so a running host cannot extend its own.
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
    return result === NOT_FAST ? this.viaBlocking(child, name, args, timeoutMs) : result;
  };

  /**
   * Forks `processes` children (taken from `standby` when given) and loads the version in
   * each; if any fails (a typed load error, or ERR_VERSION_CRASHED when the library
   * killed its process while loading), all are ended and that error is thrown.
   *
   * Driven by a blocked callSync (the restart of a crashed version), it needs no event
   * loop: children whose warm-up settled (else new ones: fork is synchronous, and a child
   * reads the request written to its pipe once it has started), the load sent on each
   * one's blocking path, ERR_CALL_TIMEOUT past `timeoutMs` (0: none).
   */
  static *start(request: LoadRequest, processes: number, standby?: Standby<ChildProcessHandle>, timeoutMs = 0): Steps<ProcessRuntime> {
    const spawn = (): ChildProcessHandle => new ChildProcessHandle(hostChildExtras(request.state, request.libraryPath ?? []));
    try {
      const { handles, report } = yield* loadAll(request, processes, standby, spawn, function* (c, stepMs) {
        const loaded = yield* loadInChild(c, { ...request, processRing: c.channel !== null }, stepMs);
        c.channel?.open(loaded, undefined); // views over the state block are copied, as over IPC
        return loaded;
      }, timeoutMs);
      return new ProcessRuntime(report, handles, false);
    } catch (err) {
      throw loadError(err, request.library);
    }
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    const child = this.leastBusy();
    return this.send(child, child.channel, name, args);
  }
}

/** A child loads over IPC, or on its blocking path when the host is blocked. */
const loadInChild = step(
  (c: ChildProcessHandle, request: LoadRequest, timeoutMs: number) => c.syncCall.call(SYNC_OP.load, [request], timeoutMs) as LoadReport,
  (c: ChildProcessHandle, request: LoadRequest) => c.request((r) => r.load(request)));

/** A death while loading says so, and names the file. */
function loadError(reason: unknown, library: string): unknown {
  if (!(reason instanceof IsoswapError) || reason.code !== 'ERR_VERSION_CRASHED') return reason;
  return new IsoswapError('ERR_VERSION_CRASHED', `${library} crashed its process while loading: ${reason.message}`,
    { ...reason.details, file: library });
}
