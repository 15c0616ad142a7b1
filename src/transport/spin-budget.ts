import { nowMs } from './clock.js';
import { platform } from '../platform/platform.js';


/**
 * How long to spin before sleeping, adapted to what the spins catch: a spin that saw the
 * awaited change doubles the next budget (up to `maxUs`), one that saw nothing halves it
 * (down to `minUs`). Back-to-back calls keep both sides spinning (a round trip of a
 * fraction of a microsecond); a quiet channel quickly costs nothing but the wake-up.
 *
 * Halving alone has a trap: once both sides sleep, each wakes the other late, every spin
 * misses, and they stay asleep while calls come back to back. How long a sleep lasted
 * cannot tell it apart from a slow peer: on a machine busy with other processes a wake-up
 * alone takes longer than any sensible spin. So the side that made the change stamps when
 * it made it (ring-layout.ts HEAD_AT, DONE_AT), and {@link SpinBudget.caught} grows the
 * budget past a change that a longer spin would have caught, however late the sleeper woke.
 * A spin yields the CPU as it goes (see {@link SpinBudget.spin}).
 */
export class SpinBudget {
  #us: number;
  /** When the last spin that had to wait began (nowMs). */
  #startedAt = Number.POSITIVE_INFINITY;

  constructor(private readonly minUs: number, private readonly maxUs: number) {
    this.#us = maxUs;
  }

  /** The budget the next spin gets, in µs. */
  get us(): number {
    return this.#us;
  }

  /**
   * After a missed spin and a sleep: the awaited change was made at `atMs` (nowMs, the
   * other side's stamp). Made within `maxUs` of the spin's start, a longer spin would have
   * caught it: the budget grows past it. A stamp from before the spin (stale) or none
   * (NaN) teaches nothing.
   */
  caught(atMs: number): void {
    const us = (atMs - this.#startedAt) * 1000;
    if (us > 0 && us <= this.maxUs) this.#us = Math.min(this.maxUs, Math.max(this.#us, 2 * us));
  }

  /**
   * Calls `ready` until it returns true or the budget is spent; true if it did. It gives
   * the CPU away as it goes (below) once it has spun `yieldAfterUs` (Infinity: never).
   */
  spin(ready: () => boolean, yieldAfterUs = 0): boolean {
    if (ready()) return true;
    let deadline = Number.NaN;
    for (let i = 1; ; i++) {
      if (ready()) {
        this.#us = Math.min(this.maxUs, this.#us * 2);
        return true;
      }
      // The clock costs tens of ns (microseconds after idle): look at it every 32 turns
      // only, the first time to start the budget. Then give the CPU away: on a machine with
      // more runnable threads than cores the other side may be waiting for this very CPU
      // (both on one core, a call cost two whole spins); with nothing else to run there,
      // sched_yield returns at once.
      if ((i & 31) === 0) {
        const now = nowMs();
        if (Number.isNaN(deadline)) {
          this.#startedAt = now;
          deadline = now + this.#us / 1000;
        } else if (now > deadline) {
          this.#us = Math.max(this.minUs, this.#us / 2);
          return false;
        }
        if ((now - this.#startedAt) * 1000 >= yieldAfterUs) platform().yieldCpu();
      }
    }
  }
}
