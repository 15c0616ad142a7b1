import { nowMs } from './clock.js';

/**
 * How long to spin before sleeping, adapted to the traffic: a spin that saw the awaited
 * change doubles the next budget (up to `maxUs`), one that saw nothing halves it (down to
 * `minUs`). Back-to-back calls keep both sides spinning (a round trip of a fraction of a
 * microsecond); a quiet channel quickly costs nothing but the futex wake-up.
 *
 * Halving alone has a trap: once both sides sleep, each wakes the other ~10–50 µs late,
 * every spin misses, and they stay asleep while calls come back to back. So a sleep that
 * turns out short ({@link SpinBudget.slept}) grows the budget past it: next time, spin.
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
   * Tells how long the side slept after its last spin missed (µs). A sleep within
   * `maxUs` would have been caught by a longer spin: the budget grows past it.
   *
   * @example
   * const t = nowMs(); Atomics.wait(words, 0, seen); spin.slept((nowMs() - t) * 1000);
   */
  slept(us: number): void {
    if (us <= this.maxUs) this.#us = Math.min(this.maxUs, Math.max(this.#us * 2, us * 2));
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
    const deadline = nowMs() + this.#us / 1000;
    for (let i = 1; ; i++) {
      if (ready()) {
        this.#us = Math.min(this.maxUs, this.#us * 2);
        return true;
      }
      // The clock costs tens of ns: look at the clock every 32 turns only.
      if ((i & 31) === 0 && nowMs() > deadline) {
        this.#us = Math.max(this.minUs, this.#us / 2);
        return false;
      }
    }
  }
}
