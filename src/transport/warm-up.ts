import { WakePredictor } from './wake-predictor.js';

/** A call this long after the previous one's start begins a burst (a frame's first call). */
const BURST_GAP_MS = 1;
/** The warm-up is due this long before the next burst: a timer fires up to a millisecond
 *  late, and one that fires with the frame's own timer runs just before it, as good. */
const LEAD_MS = 0.5;

/**
 * Warms a frame loop's first call. After some milliseconds of idle a CPU has lost what the
 * call path had in its caches (a virtual one most of all, whose halt the hypervisor fills
 * with other work): the first call of a frame then pays several times a wake-up, on both
 * sides. A host that calls in bursts at a regular period (a game's frames) learns that
 * period (wake-predictor.ts, as its worker does), and shortly before the next burst is due
 * sends one warm-up call through the channel (ring-layout.ts WARM_UP_FN: it runs nothing).
 *
 * The timer is set from its own callback, for the burst after the one it warms: setting a
 * timer after idle costs tens of microseconds (Node's timer lists, a call into libuv),
 * which a frame's first call would wait for. A call only notes the time; it sets the timer
 * only when none is set (the period was just learnt, or the loop came back). A warm-up that
 * no burst followed sets no more: a loop that stops costs one warm-up more, irregular calls
 * none.
 */
export class WarmUp {
  readonly #predictor = new WakePredictor();
  #lastCall = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  /** A burst began since the last warm-up was sent (or none was sent yet). */
  #burstSinceFire = true;

  /**
   * @param send publishes the warm-up call (it finds whether the channel may take one)
   * @param now the clock, in ms (a test passes its own)
   */
  constructor(private readonly send: () => void, private readonly now: () => number = () => performance.now()) {}

  /** Calls were published (one, or a turn's batch), and the worker runs them: a burst that
   *  began teaches the period. Not before they are published: after idle, each step costs
   *  microseconds the calls would wait for. */
  published(): void {
    const now = this.now();
    const burst = now - this.#lastCall >= BURST_GAP_MS;
    this.#lastCall = now;
    if (!burst) return;
    this.#predictor.burst(now);
    this.#burstSinceFire = true;
    if (this.#timer === undefined) this.#set(now);
  }

  /** No more warm-ups (the channel failed). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Sets the timer for the first predicted burst whose warm-up is still ahead. */
  #set(now: number): void {
    let next = this.#predictor.next();
    if (next === null) return;
    while (next - LEAD_MS <= now) next += this.#predictor.period;
    this.#timer = setTimeout(this.#fire, next - LEAD_MS - now).unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    if (!this.#burstSinceFire) return; // the last warm-up's burst never came: the loop stopped
    this.#burstSinceFire = false;
    this.send();
    this.#set(this.now());
  };
}
