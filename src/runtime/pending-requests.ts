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
   * Settles as `work` does, or with the error {@link failAll} gives first.
   *
   * @example
   * return pending.track(send(remote));
   */
  track<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: unknown): void => { if (this.#fails.delete(fail)) reject(error); };
      this.#fails.add(fail);
      work.then((value) => { if (this.#fails.delete(fail)) resolve(value); }, fail);
    });
  }

  /** Rejects every request in flight with `error`. */
  failAll(error: unknown): void {
    for (const fail of [...this.#fails]) fail(error);
  }
}
