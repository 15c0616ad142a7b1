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
  /** When the burst whose warm-up is still to be scheduled began, NaN when none. */
  #burstAt = Number.NaN;

  /**
   * @param send publishes the warm-up call (it finds whether the channel may take one)
   * @param now the clock, in ms (a test passes its own)
   */
  constructor(private readonly send: () => void, private readonly now: () => number = () => performance.now()) {}

  /** A call is about to be published: only the clock is read here, the rest waits for
   *  {@link schedule}. */
  called(): void {
    const now = this.now();
    if (now - this.#lastCall >= BURST_GAP_MS) this.#burstAt = now;
    this.#lastCall = now;
  }

  /** After the call was published, while the worker runs it: a burst that began teaches the
   *  period, and the next warm-up is set (after idle, setting a timer costs microseconds that
   *  a call about to be published should not wait for). */
  schedule(): void {
    const at = this.#burstAt;
    if (Number.isNaN(at)) return;
    this.#burstAt = Number.NaN;
    this.#predictor.burst(at);
    const next = this.#predictor.next();
    clearTimeout(this.#timer);
    this.#timer = next === null ? undefined : setTimeout(this.#fire, next - LEAD_MS - this.now()).unref();
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
