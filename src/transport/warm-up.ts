import { BURST_PERIOD, NEXT_BURST_AT } from './ring-layout.js';
import { nowMs } from './clock.js';
import type { WakePredictor } from './wake-predictor.js';

/** The warm-up is due this long before the next burst: a timer fires up to a millisecond
 *  late, and one that fires with the frame's own timer runs just before it, as good. */
const LEAD_MS = 0.5;
/** An announced burst this many periods old is no loop any more (the worker's predictor
 *  takes a burst after up to four missed frames as the same loop). */
const STALE_PERIODS = 4;

/** The worker's end: after each burst its predictor heard, when the next is due (NaN:
 *  none), for {@link WarmUp}. */
export function announceNextBurst(stamps: Float64Array, predictor: Pick<WakePredictor, 'next' | 'period'>): void {
  const next = predictor.next();
  stamps[BURST_PERIOD] = next === null ? Number.NaN : predictor.period;
  stamps[NEXT_BURST_AT] = next ?? Number.NaN;
}

/**
 * Warms a frame loop's first call. After some milliseconds of idle a CPU has lost what the
 * call path had in its caches (a virtual one most of all, whose halt the hypervisor fills
 * with other work): the first call of a frame then pays several times a wake-up, on both
 * sides. The worker learns when bursts of calls come (wake-predictor.ts) and announces the
 * next one in the ring (NEXT_BURST_AT, BURST_PERIOD); shortly before it is due the host
 * sends one warm-up call through the channel (ring-layout.ts WARM_UP_FN: it runs nothing).
 *
 * Nothing of this is on a call's path: after idle a clock read costs microseconds and
 * setting a timer tens (Node's timer lists, a call into libuv), which a frame's first call
 * would wait for. The timer sets the next warm-up from its own callback; a call sets it only
 * when none is set (the loop was just learnt, or came back). A warm-up that no call
 * followed sets no more: a loop that stops costs one warm-up more, irregular calls none.
 */
export class WarmUp {
  #timer: NodeJS.Timeout | undefined;
  #stamps: Float64Array;
  /** A call was published since the last warm-up went (or none went yet). */
  #calledSinceFire = true;
  /** The burst the timer set is for. */
  #target = Number.NEGATIVE_INFINITY;

  /**
   * @param send publishes the warm-up call (it finds whether the channel may take one)
   * @param stamps the ring's stamps, where the worker announces the next burst
   * @param now the worker's clock (clock.ts nowMs), in ms; a test passes its own
   */
  constructor(private readonly send: () => void, stamps: Float64Array, private readonly now: () => number = nowMs) {
    this.#stamps = stamps;
  }

  /** Calls were published (not a warm-up). */
  published(): void {
    this.#calledSinceFire = true;
    if (this.#timer === undefined) this.#set();
  }

  /** No more warm-ups (the channel failed); lets go of the ring. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stamps = new Float64Array(0);
  }

  /** Sets the timer for the first announced burst whose warm-up is still ahead and that
   *  lies past `warmed` (the burst a warm-up just went for), if any. */
  #set(warmed = Number.NEGATIVE_INFINITY): void {
    const period = this.#stamps[BURST_PERIOD];
    if (period === undefined || !(period > 0)) return; // none announced (NaN), or a ring never used (0)
    const now = this.now();
    let next = this.#stamps[NEXT_BURST_AT]!;
    const late = now + LEAD_MS - next;
    if (late > STALE_PERIODS * period) return;
    if (late >= 0) next += (Math.floor(late / period) + 1) * period;
    // A timer fires up to a millisecond early (Node's timer lists count whole ms): aimed at
    // the burst just warmed up for again, it would fire before that burst, find no call
    // since, and end the chain; the frame's call would then set the timer on its path
    if (next - warmed < period / 2) next += period;
    this.#target = next;
    this.#timer = setTimeout(this.#fire, next - LEAD_MS - now).unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    if (!this.#calledSinceFire) return; // the last warm-up's burst never came: the loop stopped
    this.#calledSinceFire = false;
    this.send();
    this.#set(this.#target);
  };
}
