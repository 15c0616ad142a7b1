import { createChannelBuffer } from '../channel/layout.js';
import type { LoadRequest } from '../protocol.js';
import { ThreadWorkerHandle } from './thread-worker-handle.js';

/** What a standby worker loads once to warm up: the C library, already in every process
 *  (dlopen only counts a reference), with one function that takes the fast channel. On a
 *  system without it the load fails, harmlessly: the worker is just not warmed. */
const rehearsal = (): LoadRequest => ({
  library: 'standby rehearsal', copy: process.platform === 'darwin' ? 'libSystem.dylib' : 'libc.so.6',
  functions: { abs: 'int abs(int)' }, channel: createChannelBuffer(),
});

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
      // A rehearsal: load and unload a library that is always there, so that the swap
      // taking this worker runs warm code on both sides (a first load took 2.2 ms, the
      // next ones 0.85). Both are sent now: the worker runs messages in order, so a real
      // load sent later can never be unloaded by the rehearsal.
      void worker.request((r) => r.load(rehearsal())).catch(() => {});
      void worker.request((r) => r.runLoadHook()).catch(() => {});
      void worker.request((r) => r.unload()).catch(() => {});
      this.#ready.push(worker);
    }
  }
}
