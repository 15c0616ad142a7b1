import { NOT_FAST } from '../channel/call-channel.js';
import type { IsoswapError } from '../errors.js';
import type { LoadReport, LoadRequest } from '../protocol.js';
import type { ThreadStandby } from './thread-standby.js';
import { ThreadWorkerHandle } from './thread-worker-handle.js';
import type { VersionRuntime } from './types.js';

/**
 * A version served by `threads` worker threads, each with its own dlopen of the same copy.
 * Calls go to the least busy thread: over its shared-memory channel when the function and
 * arguments are numbers, else as a message. Hooks run once per version, in the first one.
 */
export class ThreadRuntime implements VersionRuntime {
  private constructor(readonly report: LoadReport, private readonly workers: ThreadWorkerHandle[]) {}

  /**
   * Starts `threads` workers (taken from `standby` when given) and loads the version in
   * each; if any fails, all are ended and the first load error is thrown.
   *
   * @example
   * const rt = await ThreadRuntime.start({ library, copy, functions }, 2);
   */
  static async start(request: LoadRequest, threads: number, standby?: ThreadStandby): Promise<ThreadRuntime> {
    const workers = Array.from({ length: threads }, () => standby?.take() ?? new ThreadWorkerHandle());
    workers.forEach((w, i) => { w.label = `worker ${i} of ${request.library}`; });
    const state = request.state?.kind === 'shared' ? request.state.buffer : undefined;
    const results = await Promise.allSettled(workers.map(async (w) => {
      const report = await w.request((r) => r.load({ ...request, channel: w.channel.buffer }));
      w.channel.open(report, state);
      return report;
    }));
    standby?.refill();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(workers.map((w) => w.kill()));
      throw failed.reason;
    }
    return new ThreadRuntime((results[0] as PromiseFulfilledResult<LoadReport>).value, workers);
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    const worker = this.#leastBusy();
    return worker.channel.call(name, args) ?? worker.request((r) => r.call(name, args));
  }

  /** Blocks until the call returns: on the channel, or for other functions on the
   *  blocking message path; ERR_CALL_TIMEOUT after `timeoutMs` (0: no limit). */
  readonly callSync = (name: string, args: unknown[], timeoutMs = 0): unknown => {
    const worker = this.#leastBusy();
    const result = worker.channel.callSync(name, args, timeoutMs);
    return result === NOT_FAST ? worker.syncCall.call(name, args, timeoutMs) : result;
  };

  runLoadHook(): Promise<number> {
    return this.workers[0]!.request((r) => r.runLoadHook());
  }

  runUnloadHook(): Promise<boolean> {
    return this.workers[0]!.request((r) => r.runUnloadHook());
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }

  async kill(reason?: IsoswapError): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill(reason)));
  }

  onCrash(listener: (error: IsoswapError) => void): void {
    let reported = false;
    for (const w of this.workers) {
      w.onCrash((err) => {
        if (reported) return;
        reported = true;
        listener(err);
      });
    }
  }

  #leastBusy(): ThreadWorkerHandle {
    let best = this.workers[0]!;
    if (this.workers.length === 1) return best;
    for (const w of this.workers) if (w.busy < best.busy) best = w;
    return best;
  }
}
