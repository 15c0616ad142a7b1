/**
 * The requests sent to one worker or child process and not yet answered. comlink's
 * promises never settle when the other side dies, so each is tracked here and failed with
 * the death (or a kill's reason) instead of hanging.
 */
export class PendingRequests {
  readonly #fails = new Set<(error: unknown) => void>();

  /** How many are in flight. */
  get size(): number {
    return this.#fails.size;
  }

  /**
   * Settles as `work` does, or with the error of a {@link failAll} that came first.
   */
  track<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (end: () => void): void => {
        if (settled) return;
        settled = true;
        this.#fails.delete(fail);
        end();
      };
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the worker's own error, passed on as it came
      const fail = (error: unknown): void => settle(() => reject(error));
      this.#fails.add(fail);
      work.then((value) => settle(() => resolve(value)), fail);
    });
  }

  /**
   * Rejects every request in flight with `error`; none is in flight from now on. A
   * request answered in the same turn still resolves: Node hands a dying worker's last
   * messages to their listeners right before 'exit', and the answer reaches the request
   * through promise reactions that have not run yet. With `delivered`, they are failed
   * once it settles instead: a child process's last IPC messages may still be unread
   * when its 'exit' comes.
   */
  failAll(error: unknown, delivered?: Promise<void>): void {
    const fails = [...this.#fails];
    this.#fails.clear();
    const failThem = (): void => { for (const fail of fails) fail(error); };
    if (delivered === undefined) setImmediate(failThem);
    else void delivered.then(() => setImmediate(failThem));
  }
}
