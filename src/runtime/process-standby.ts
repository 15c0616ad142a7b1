import { ChildProcessHandle } from './child-process-handle.js';

/**
 * Child processes forked ahead of need (Node booted, koffi imported), so that a swap or
 * the restart after a crash costs dlopen + validate instead of a Node start (~40-80 ms
 * here). Each one taken is replaced after the load that took it. Standby children are
 * unref'd: they never keep the program alive; `close()` ends them.
 */
export class ProcessStandby {
  readonly #ready: ChildProcessHandle[] = [];
  #closed = false;

  /**
   * @example
   * const standby = new ProcessStandby(1); const child = standby.take(); await standby.close();
   */
  constructor(private readonly size: number) {
    this.#fill();
  }

  /** A forked child, pre-started if one is ready and alive. */
  take(): ChildProcessHandle {
    let child: ChildProcessHandle | undefined;
    while ((child = this.#ready.shift()) !== undefined && !child.alive);
    child ??= new ChildProcessHandle();
    child.ref();
    return child;
  }

  /** Forks replacements for the children taken: after the load that took them, so that
   *  a Node start does not compete with that load for the two cores. */
  refill(): void {
    this.#fill();
  }

  /** Ends the waiting children; later takes fork fresh ones and none is replaced. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#ready.splice(0).map((c) => c.kill()));
  }

  #fill(): void {
    while (!this.#closed && this.#ready.length < this.size) {
      const child = new ChildProcessHandle();
      child.label = 'standby process';
      child.unref();
      this.#ready.push(child);
    }
  }
}
