/** Gaps between bursts outside this range are not a frame loop: no prediction. Below it a
 *  worker's spin catches the next call anyway; above it a window would rarely pay. */
const MIN_PERIOD_MS = 2;
const MAX_PERIOD_MS = 100;
/** A gap this far (a fraction of the period) from the period seen so far starts over. */
const TOLERANCE = 0.15;
/** A burst up to this many periods after the last still fits (frames that made no call). */
const MAX_SKIPPED = 4;
/** Predicts only when the predictions' mean error is at most this fraction of the period,
 *  and after this many bursts in a row that fit. */
const MAX_DEVIATION = 0.1;
const MIN_GAPS = 3;
/** After this many predicted bursts in a row that did not come, no more prediction until
 *  the bursts are regular again: a loop that stopped costs two windows, then nothing. */
const MAX_MISSES = 2;
/** A window reaches from the expected burst as far as the bursts' own jitter on either side
 *  (twice their mean error, and MIN_REACH_MS more: waking from a timed wait is late by the
 *  timer's slack and the scheduler), at most MAX_REACH_MS and MAX_REACH_SHARE of the period
 *  (its CPU): a loop paced on a grid gets a narrow window, one that sleeps a fixed time
 *  after each frame (gaps of 15.4-18.2 ms for a sleep(16)) a wide one. */
const MIN_REACH_MS = 0.2;
const MAX_REACH_MS = 1.5;
const MAX_REACH_SHARE = 0.1;

/** When to be awake: from `from` to `until` (the clock of the observations). */
export interface WakeWindow {
  from: number;
  until: number;
}

/**
 * Learns the period of bursts of calls after idle gaps (a frame loop: a few calls, then
 * ~16 ms of quiet) from the times the bursts began, and says when the next one is due, so
 * that an idle worker can be awake and spinning when it comes instead of paying a wake-up
 * (channel-server.ts). Pure: time is what the caller passes.
 *
 * The bursts are taken to lie on a grid (a loop paced to absolute frame times): each burst
 * moves the grid only half its error, so that one late frame (timers fire late by up to a
 * millisecond) does not shift the next prediction, and a loop that sleeps a fixed time
 * between frames is followed all the same. A burst a few periods after the last (frames
 * dropped) still fits. Only a regular period (the mean error within
 * {@link MAX_DEVIATION} of it, between 2 and 100 ms) gives a window; a predicted burst that
 * does not come is a miss, and after {@link MAX_MISSES} in a row the prediction stops.
 */
export class WakePredictor {
  #period = Number.NaN;
  /** Where the grid puts the last burst that fitted. */
  #grid = Number.NaN;
  /** The last burst. */
  #last = Number.NaN;
  /** Mean absolute error of the predictions (an EWMA). */
  #deviation = 0;
  /** Bursts in a row that fit the grid. */
  #gaps = 0;
  #misses = 0;
  /** Bursts in a row that did not fit (one alone moves the grid, not the period). */
  #outliers = 0;

  /** The period learnt, NaN while there is none. */
  get period(): number {
    return this.#period;
  }

  /**
   * A burst of calls began at `at` (after an idle gap).
   */
  burst(at: number): void {
    const period = this.#period;
    const gap = at - this.#grid;
    this.#misses = 0;
    const periods = Math.max(1, Math.round(gap / period));
    const error = gap - periods * period;
    const sinceLast = at - this.#last;
    this.#last = at;
    if (periods <= MAX_SKIPPED && Math.abs(error) <= TOLERANCE * period) { // false while period is NaN
      this.#period += error / (8 * periods);
      this.#grid = at - error / 2;
      this.#deviation += (Math.abs(error) - this.#deviation) / 4;
      this.#gaps++;
      this.#outliers = 0;
      return;
    }
    if (++this.#outliers < 2 && this.#gaps > 0) return; // one late frame: the grid holds
    const fresh = sinceLast >= MIN_PERIOD_MS && sinceLast <= MAX_PERIOD_MS; // NaN: the first burst
    this.#grid = at;
    this.#period = fresh ? sinceLast : Number.NaN;
    this.#deviation = 0;
    this.#gaps = fresh ? 1 : 0;
    this.#outliers = 0;
  }

  /** The burst {@link window} announced did not come by the window's end. */
  miss(): void {
    this.#misses++;
  }

  /** When the next burst is due, or null when none is predicted. */
  next(): number | null {
    const period = this.#period;
    if (this.#gaps < MIN_GAPS || this.#misses >= MAX_MISSES || !(this.#deviation <= MAX_DEVIATION * period)) return null;
    return this.#grid + (this.#misses + 1) * period;
  }

  /** When to be awake for the next burst, or null when no burst is predicted. */
  window(): WakeWindow | null {
    const next = this.next();
    if (next === null) return null;
    const reach = Math.min(MAX_REACH_MS, MAX_REACH_SHARE * this.#period, MIN_REACH_MS + 2 * this.#deviation);
    return { from: next - reach, until: next + reach };
  }
}
