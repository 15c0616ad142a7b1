import { nowMs } from './clock.js';

/** After picking results up by spinning (in microtasks) for this long, the host waits for
 *  a turn of the event loop: a caller awaiting calls in a loop would otherwise starve
 *  timers and I/O, as a loop over resolved promises does. */
const YIELD_MS = 1;
/** #spinningSince when no pick-up spun since the event loop turned... */
const NOT_SPINNING = -1;
/** ... and while only the first one did. */
const SPINNING_UNDATED = -2;

/** What {@link AnswerPickUp} asks of the channel whose answers it picks up. */
export interface PickUpChannel {
  /** Calls are awaited, and the channel has not failed. */
  awaiting(): boolean;
  /** Spins for the next answer (answer-spin.ts); whether it came. */
  spin(): boolean;
  /** Settles every call answered. */
  collect(): void;
  /** Waits without blocking until the next answer, then calls `woken` (signals.sleep). */
  sleep(woken: () => void): void;
  /** The pick-up woke (`slept`: from {@link PickUpChannel.sleep}, else after a turn of the
   *  event loop); false when the channel failed meanwhile. */
  woke(slept: boolean): boolean;
}

/**
 * How an awaiting host (CallChannel.call) picks its answers up: by spinning while they
 * come, for at most YIELD_MS in one turn of the event loop, then by sleeping until the next
 * one (Atomics.waitAsync, or a child's doorbell). Calls made in the same turn count on the
 * same spin; after idle, once the event loop has turned, a spin starts afresh.
 */
export class AnswerPickUp {
  /** A pick-up is scheduled (a sleep or an immediate): flushes leave results to it. */
  #scheduled = false;
  /** Asleep until the next answer (PickUpChannel.sleep). */
  #asleep = false;
  /** When picking up by spinning began (nowMs); NOT_SPINNING after a turn of the event
   *  loop, SPINNING_UNDATED while the first pick-up of a turn spins. */
  #spinningSince = NOT_SPINNING;
  /** An immediate will tell of the event loop's next turn (#loopTurned). */
  #turnAwaited = false;

  constructor(private readonly channel: PickUpChannel) {}

  /** Asleep until the next answer: a blocking wait that takes over puts this back. */
  get asleep(): boolean {
    return this.#asleep;
  }

  /** Collects results while they come (spinning), then sleeps until the next one. */
  run(): void {
    if (this.#scheduled || !this.channel.awaiting()) return;
    // The first pick-up of a turn reads no clock (after idle a read costs microseconds the
    // answer would wait for): the next one in the same turn dates the spinning
    if (this.#spinningSince === NOT_SPINNING) this.#spinningSince = SPINNING_UNDATED;
    else if (this.#spinningSince === SPINNING_UNDATED) this.#spinningSince = nowMs();
    else if (nowMs() - this.#spinningSince > YIELD_MS) {
      this.#scheduled = true;
      setImmediate(this.#woken);
      return;
    }
    while (!this.#scheduled && this.channel.awaiting()) {
      if (!this.channel.spin()) {
        this.#scheduled = this.#asleep = true;
        this.channel.sleep(this.#woken);
        return;
      }
      this.channel.collect();
    }
    // Every answer is in: the next calls may come in this turn (their spins count on), or
    // after idle, when the event loop has turned and a spin may start afresh.
    if (!this.#turnAwaited) {
      this.#turnAwaited = true;
      setImmediate(this.#loopTurned);
    }
  }

  readonly #loopTurned = (): void => {
    this.#turnAwaited = false;
    if (!this.#scheduled) this.#spinningSince = NOT_SPINNING;
  };

  readonly #woken = (): void => {
    const slept = this.#asleep;
    this.#scheduled = this.#asleep = false;
    this.#spinningSince = NOT_SPINNING;
    if (this.channel.woke(slept)) this.run();
  };
}
