import type { IsoswapError } from '../errors.js';

/**
 * The calls one version has in flight, counted until they settle, so that a retiring
 * version drains them before it unloads. A call past its deadline stops counting at once:
 * its version is killed, and a drain must not wait for it.
 */
export class CallLedger {
  #inflight = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #done = (): void => {
    if (--this.#inflight === 0 && this.#idleWaiters.length > 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  };

  get inflight(): number {
    return this.#inflight;
  }

  /** Counts `result` until it settles; past `timeoutMs` (0: none) it rejects with what
   *  `timedOut` returns instead (and says what to do with its version). */
  track(result: Promise<unknown>, timeoutMs: number, timedOut: () => IsoswapError): Promise<unknown> {
    this.#inflight++;
    if (timeoutMs <= 0) {
      result.then(this.#done, this.#done);
      return result;
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.#done();
        return true;
      };
      const timer = setTimeout(() => {
        if (settle()) reject(timedOut());
      }, timeoutMs);
      // The call's own rejection, passed on as it came (an IsoswapError from the runtime).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      result.then((value) => { if (settle()) resolve(value); }, (err: unknown) => { if (settle()) reject(err); });
    });
  }

  /** A blocking call starts: counted until {@link CallLedger.ended} (no closure per
   *  call, as a callSync after idle pays for every allocation). */
  started(): void {
    this.#inflight++;
  }

  /** The blocking call {@link CallLedger.started} counted returned or threw. */
  ended(): void {
    this.#done();
  }

  /** Resolves true once no call is in flight, false if `timeoutMs` passes first (0: no
   *  limit, as for every other deadline option). */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => { clearTimeout(timer); resolve(true); };
      const timer = timeoutMs <= 0 ? undefined : setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.push(wake);
    });
  }
}
