import { ThreadWorkerHandle } from './thread-worker-handle.js';

/**
 * Worker threads started ahead of need (thread running, koffi imported), so that a swap
 * costs copy + dlopen + validate instead of a thread start (~30 ms). Each one taken is
 * replaced in the background. Standby threads are unref'd: they never keep the program
 * alive; `close()` ends them (no thread is left after `host.close()`).
 */
export class ThreadStandby {
  readonly #ready: ThreadWorkerHandle[] = [];
  #closed = false;

  /**
   * @example
   * const standby = new ThreadStandby(2); const worker = standby.take(); await standby.close();
   */
  constructor(private readonly size: number) {
    this.#fill();
  }

  /** Workers waiting now (for tests and diagnostics). */
  get ready(): number {
    return this.#ready.length;
  }

  /** A started worker, pre-started if one is ready. Call {@link refill} once the version
   *  it serves is loaded. */
  take(): ThreadWorkerHandle {
    let worker: ThreadWorkerHandle | undefined;
    while ((worker = this.#ready.shift()) !== undefined && !worker.alive);
    worker ??= new ThreadWorkerHandle();
    worker.worker.ref();
    return worker;
  }

  /** Starts replacements for the workers taken. Called after the load that took them,
   *  not at take(): on two cores a thread starting beside the dlopen would slow it. */
  refill(): void {
    this.#fill();
  }

  /** Ends the waiting workers; later takes start fresh workers and none is replaced. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#ready.splice(0).map((w) => w.kill()));
  }

  #fill(): void {
    while (!this.#closed && this.#ready.length < this.size) {
      const worker = new ThreadWorkerHandle();
      worker.label = 'standby worker';
      worker.worker.unref();
      // A first request runs comlink's code on both sides once, so the swap that takes
      // this worker does not pay for cold code (~1 ms). Nothing is loaded: it returns false.
      void worker.request((r) => r.runUnloadHook()).catch(() => {});
      this.#ready.push(worker);
    }
  }
}
