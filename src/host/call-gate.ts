/**
 * Holds new calls back while the host has no version that may serve them: during a
 * state-block hand-over, and while a crashed version is being restarted. Holds nest;
 * calls pass once the last one is released.
 */
export class CallGate {
  #holds = 0;
  #opened: Promise<void> | null = null;
  #open: (() => void) | null = null;
  #fail: ((error: unknown) => void) | null = null;

  /** A promise to wait on while held, else null (the hot path checks this only). */
  get waiting(): Promise<void> | null {
    return this.#opened;
  }

  /**
   * Holds calls until the returned function is called (once; later calls do nothing).
   */
  hold(): () => void {
    if (this.#holds++ === 0) {
      this.#opened = new Promise((resolve, reject) => { this.#open = resolve; this.#fail = reject; });
      this.#opened.catch(() => {}); // failed with no call waiting: nobody to tell
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds > 0) return;
      const open = this.#open!;
      this.#opened = this.#open = this.#fail = null;
      open();
    };
  }

  /** The calls waiting now reject with `error` (a forced close) instead of waiting for
   *  the holds, which stay until released. */
  fail(error: unknown): void {
    this.#fail?.(error);
  }
}
