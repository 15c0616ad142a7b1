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
  #refill: NodeJS.Immediate | null = null;

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

  /** A started worker, pre-started if one is ready; a replacement starts right after. */
  take(): ThreadWorkerHandle {
    let worker: ThreadWorkerHandle | undefined;
    while ((worker = this.#ready.shift()) !== undefined && !worker.alive);
    worker ??= new ThreadWorkerHandle();
    worker.worker.ref();
    // Started on the next turn: the thread's start-up then overlaps the dlopen of the
    // version being loaded instead of delaying the message that asks for it.
    this.#refill ??= setImmediate(() => {
      this.#refill = null;
      this.#fill();
    });
    return worker;
  }

  /** Ends the waiting workers; later takes start fresh workers and none is replaced. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#refill !== null) clearImmediate(this.#refill);
    this.#refill = null;
    await Promise.all(this.#ready.splice(0).map((w) => w.kill()));
  }

  #fill(): void {
    while (!this.#closed && this.#ready.length < this.size) {
      const worker = new ThreadWorkerHandle();
      worker.label = 'standby worker';
      worker.worker.unref();
      this.#ready.push(worker);
    }
  }
}
