import type { RuntimeHandle } from './runtime-handle.js';

/**
 * Workers or child processes started ahead of need (runtime booted, koffi imported), so
 * that a swap or the restart after a crash costs copy + dlopen + validate instead of a
 * thread start (~30 ms) or a Node start (~70 ms). Each one taken is replaced after the
 * load that took it. Waiting ones are unref'd: they never keep the program alive;
 * `close()` ends them (nothing is left after `host.close()`).
 */
export class Standby<H extends RuntimeHandle> {
  readonly #ready: H[] = [];
  #closed = false;

  /**
   * @param spawn starts one handle
   * @param warm runs once on each new standby handle (a rehearsal load)
   * @example
   * const standby = new Standby(1, () => new ThreadWorkerHandle()); const w = standby.take(); await standby.close();
   */
  constructor(private readonly size: number, private readonly spawn: () => H, private readonly warm?: (handle: H) => void) {
    this.#fill();
  }

  /** A started handle, pre-started if one is ready and alive. Call {@link refill} once
   *  the version it serves is loaded. */
  take(): H {
    let handle: H | undefined;
    while ((handle = this.#ready.shift()) !== undefined && !handle.alive);
    handle ??= this.spawn();
    handle.ref();
    return handle;
  }

  /** Starts replacements for the handles taken: after the load that took them, not at
   *  take(), since on two cores a runtime starting beside the dlopen would slow it. */
  refill(): void {
    this.#fill();
  }

  /** Ends the waiting handles; later takes start fresh ones and none is replaced. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#ready.splice(0).map((h) => h.kill()));
  }

  #fill(): void {
    while (!this.#closed && this.#ready.length < this.size) {
      const handle = this.spawn();
      handle.label = `standby ${handle.kind}`;
      handle.unref();
      this.warm?.(handle);
      this.#ready.push(handle);
    }
  }
}
