import { IsoswapError } from '../errors.js';
import type { LoadReport, LoadRequest } from '../protocol.js';
import { ChildProcessHandle } from './child-process-handle.js';
import type { ProcessStandby } from './process-standby.js';
import type { VersionRuntime } from './types.js';

/**
 * A version served by `processes` child processes, each with its own dlopen of the same
 * copy: a segfault, abort() or exit() in the library kills one of them, never the host,
 * and a call stuck in native code can be ended (SIGKILL). Calls go to the least busy
 * process; hooks run once per version, in the first one. The state block is a /dev/shm
 * file every process maps, so it outlives a process that dies.
 */
export class ProcessRuntime implements VersionRuntime {
  private constructor(readonly report: LoadReport, private readonly children: ChildProcessHandle[]) {}

  /** No blocking form: a call in another process is a message round trip. */
  readonly callSync = undefined;

  /**
   * Forks `processes` children (taken from `standby` when given) and loads the version in each; if any fails (a typed load
   * error, or ERR_VERSION_CRASHED when the library killed its process while loading), all
   * are ended and that error is thrown.
   *
   * @example
   * const rt = await ProcessRuntime.start({ library, copy, functions }, 1);
   */
  static async start(request: LoadRequest, processes: number, standby?: ProcessStandby): Promise<ProcessRuntime> {
    const children = Array.from({ length: processes }, () => standby?.take() ?? new ChildProcessHandle());
    children.forEach((c, i) => { c.label = `process ${i} of ${request.library}`; });
    const results = await Promise.allSettled(children.map((c) => c.request((r) => r.load(request))));
    standby?.refill();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(children.map((c) => c.kill()));
      throw loadError(failed.reason, request.library);
    }
    return new ProcessRuntime((results[0] as PromiseFulfilledResult<LoadReport>).value, children);
  }

  /** The children's process ids, for diagnostics and tests. */
  get pids(): number[] {
    return this.children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    let best = this.children[0]!;
    for (const c of this.children) if (c.inflight < best.inflight) best = c;
    return best.request((r) => r.call(name, args));
  }

  runLoadHook(): Promise<number> {
    return this.children[0]!.request((r) => r.runLoadHook());
  }

  runUnloadHook(): Promise<boolean> {
    return this.children[0]!.request((r) => r.runUnloadHook());
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
  }

  async kill(reason?: IsoswapError): Promise<void> {
    await Promise.all(this.children.map((c) => c.kill(reason)));
  }

  onCrash(listener: (error: IsoswapError) => void): void {
    let reported = false;
    for (const c of this.children) {
      c.onCrash((err) => {
        if (reported) return;
        reported = true;
        listener(err);
      });
    }
  }
}

/** A death while loading says so, and names the file. */
function loadError(reason: unknown, library: string): unknown {
  if (!(reason instanceof IsoswapError) || reason.code !== 'ERR_VERSION_CRASHED') return reason;
  return new IsoswapError('ERR_VERSION_CRASHED', `${library} crashed its process while loading: ${reason.message}`,
    { ...reason.details, file: library });
}
