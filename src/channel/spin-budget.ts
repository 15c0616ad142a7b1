/**
 * How long to spin before sleeping, adapted to the traffic: a spin that saw the awaited
 * change doubles the next budget (up to `maxUs`), one that saw nothing halves it (down to
 * `minUs`). Back-to-back calls keep both sides spinning (a round trip of a fraction of a
 * microsecond); a quiet channel quickly costs nothing but the futex wake-up.
 */
export class SpinBudget {
  #us: number;

  constructor(private readonly minUs: number, private readonly maxUs: number) {
    this.#us = maxUs;
  }

  /** The budget the next spin gets, in µs. */
  get us(): number {
    return this.#us;
  }

  /**
   * Calls `ready` until it returns true or the budget is spent; true if it did.
   *
   * @example
   * const spin = new SpinBudget(1, 100);
   * if (!spin.spin(() => Atomics.load(header, DONE) !== seen)) sleep();
   */
  spin(ready: () => boolean): boolean {
    if (ready()) return true;
    const deadline = performance.now() + this.#us / 1000;
    for (let i = 1; ; i++) {
      if (ready()) {
        this.#us = Math.min(this.maxUs, this.#us * 2);
        return true;
      }
      // performance.now() costs tens of ns: look at the clock every 32 turns only.
      if ((i & 31) === 0 && performance.now() > deadline) {
        this.#us = Math.max(this.minUs, this.#us / 2);
        return false;
      }
    }
  }
}
