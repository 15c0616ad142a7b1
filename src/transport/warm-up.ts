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
 * One unref'd timer per burst; bursts that stop cost one warm-up more, irregular calls none.
 */
export class WarmUp {
  readonly #predictor = new WakePredictor();
  #lastCall = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param send publishes the warm-up call (it finds whether the channel may take one)
   * @param now the clock, in ms (a test passes its own)
   */
  constructor(private readonly send: () => void, private readonly now: () => number = () => performance.now()) {}

  /** Calls were published (one, or a turn's batch), and the worker runs them: a burst that
   *  began teaches the period, and the next warm-up is set. Not before they are published:
   *  after idle, a clock read or a timer costs microseconds the calls would wait for. */
  published(): void {
    const now = this.now();
    const burst = now - this.#lastCall >= BURST_GAP_MS;
    this.#lastCall = now;
    if (!burst) return;
    this.#predictor.burst(now);
    const next = this.#predictor.next();
    clearTimeout(this.#timer);
    // A late frame makes the delay negative, which Node 24 on warns of on the program's stderr
    this.#timer = next === null ? undefined : setTimeout(this.#fire, Math.max(0, next - LEAD_MS - now)).unref();
  }

  /** No more warm-ups (the channel failed). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.send();
  };
}
