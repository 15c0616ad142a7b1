import { SpinBudget } from './spin-budget.js';

/** The longest spin for an answer from a worker that was awake when the calls were
 *  published (its answer takes what the call takes)... */
const AWAKE_SPIN_US = 50;
/** ... and from one the host had to wake: its answer comes a wake-up later, which on a
 *  machine busy with other processes is tens to hundreds of µs; sleeping meanwhile would
 *  add a second wake-up, the host's own. */
const WOKEN_SPIN_US = 1000;
/** A watching worker answers a call after idle in 15-30 µs (its code cold); if it shares
 *  this CPU after all, the spin yields after this long. */
const WATCHED_YIELD_AFTER_US = 30;

/** What the worker was when the calls in flight went to it: 'woken' (it slept: the answers
 *  come a wake-up later), 'watching' (awake for a predicted burst, predicted-block.ts, on
 *  another CPU as a rule, its code cold), or null (awake). */
export type WorkerWas = 'woken' | 'watching' | null;

/**
 * How long the host spins for the answers it awaits before it sleeps, and when that spin
 * yields the CPU, by what the worker was when the calls went out (CallChannel, both the
 * blocking and the awaiting side). One budget per kind, each adapting to what its spins
 * catch (spin-budget.ts).
 */
export class AnswerSpin {
  readonly #awake = new SpinBudget(1, AWAKE_SPIN_US);
  readonly #woken = new SpinBudget(1, WOKEN_SPIN_US);
  #workerWas: WorkerWas = null;

  /** What a prewake found (ring-signals.ts prewakeWorker): a watching worker stays so
   *  until its calls are answered. */
  found(was: WorkerWas): void {
    if (was !== null && this.#workerWas !== 'watching') this.#workerWas = was;
  }

  /** The host woke the worker for the calls it published. */
  woke(): void {
    this.#workerWas ??= 'woken';
  }

  /** Every call published is answered: the next go to a worker awake, until found
   *  otherwise. */
  answered(): void {
    this.#workerWas = null;
  }

  /** The budget of the spin for the answers now awaited. */
  get budget(): SpinBudget {
    return this.#workerWas === null ? this.#awake : this.#woken;
  }

  /**
   * Spins until `ready` or the budget is spent; whether `ready` came. A watching worker
   * moved off this CPU before it slept, and a yield to another program here (a compiler)
   * would hand it a whole time slice while the answer comes: that spin yields only after
   * a while.
   */
  spin(ready: () => boolean): boolean {
    return this.budget.spin(ready, this.#workerWas === 'watching' ? WATCHED_YIELD_AFTER_US : 0);
  }
}
