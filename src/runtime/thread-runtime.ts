import type { IsoswapError } from '../errors.js';
import type { LoadReport, LoadRequest } from '../protocol.js';
import { ThreadWorkerHandle } from './thread-worker-handle.js';
import type { VersionRuntime } from './types.js';

/**
 * A version served by `threads` worker threads, each with its own dlopen of the same copy.
 * Calls go to the least busy thread; hooks run once per version, in the first one.
 */
export class ThreadRuntime implements VersionRuntime {
  private constructor(readonly report: LoadReport, private readonly workers: ThreadWorkerHandle[]) {}

  readonly callSync = undefined;

  /**
   * Starts `threads` workers and loads the version in each; if any fails, all are ended
   * and the first load error is thrown.
   *
   * @example
   * const rt = await ThreadRuntime.start({ library, copy, functions }, 2);
   */
  static async start(request: LoadRequest, threads: number): Promise<ThreadRuntime> {
    const workers = Array.from({ length: threads }, () => new ThreadWorkerHandle());
    workers.forEach((w, i) => { w.label = `worker ${i} of ${request.library}`; });
    const results = await Promise.allSettled(workers.map((w) => w.request((r) => r.load(request))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(workers.map((w) => w.kill()));
      throw failed.reason;
    }
    return new ThreadRuntime((results[0] as PromiseFulfilledResult<LoadReport>).value, workers);
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.inflight < best.inflight) best = w;
    return best.request((r) => r.call(name, args));
  }

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
}
