import { IsoswapError } from '../errors.js';
import { MASK, META_STATUS, SLOT_META, SLOTS, STATUS_OK, STATUS_THREW, type ChannelViews } from './ring-layout.js';
import type { RingSideChannel } from './ring-codec.js';
import { WorkerValues } from './ring-values-worker.js';

/** A function without a prototype (an addon's export): its values carry their tags (ring-values.ts). */
export interface TaggedEntry {
  tagged: true;
  /** Calls it: its result, or a Promise of it (answered once settled); throws, or rejects
   *  with, the IsoswapError the message path would. */
  call: (args: unknown[]) => unknown;
  /** A result the slot cannot carry, as the message path sends it: the one place where a
   *  worker-side conversion plugs in. May throw an IsoswapError. */
  wire: (value: unknown) => unknown;
  /** The error for a call that returned `pending` while its host blocks (callSync). */
  refuseAsync: (pending: Promise<unknown>) => Error;
}

/**
 * The worker end of tagged calls, for the channel server: runs one, and answers it now or
 * once the Promise it returned settles. The ring publishes answers in order (DONE counts
 * them): a call answered while an earlier one is still pending waits, and so do its posts
 * on the side channel, which the host reads in slot order.
 */
export class TaggedCalls {
  readonly #values: WorkerValues;
  /** Per slot: 1 once its answer is written. */
  readonly #answered = new Uint8Array(SLOTS);
  /** Per slot: what its answer posted while an earlier call was unpublished. */
  readonly #held = new Array<unknown[] | undefined>(SLOTS);
  /** Calls whose Promise has not settled: the server must not block its event loop. */
  pending = 0;
  /** The call whose answer is being written. */
  #answering = 0;

  /**
   * @param next the next call the server publishes (its DONE)
   * @param settled after a Promise settled and its answer was written: publish
   * @param stopped whether the server stopped (the ring may serve another worker then)
   */
  constructor(
    private readonly views: ChannelViews, private readonly side: RingSideChannel | undefined,
    private readonly next: () => number, private readonly settled: () => void, private readonly stopped: () => boolean,
  ) {
    this.#values = new WorkerValues(views, { post: this.#post });
  }

  /** Marks the call in `slot` answered (a call with a prototype answers at once). */
  answered(slot: number): void {
    this.#answered[slot] = 1;
  }

  /** Whether call `seq` is answered; if so, posts what it held and forgets it. */
  publishable(seq: number): boolean {
    const slot = seq & MASK;
    if (this.#answered[slot] !== 1) return false;
    this.#answered[slot] = 0;
    const held = this.#held[slot];
    if (held !== undefined) {
      this.#held[slot] = undefined;
      for (const message of held) this.side?.post(message);
    }
    return true;
  }

  /** Runs call `seq` (in `slot`): answered now, or once the Promise it returned settles. */
  run(entry: TaggedEntry, slot: number, seq: number): void {
    const blocking = this.#values.blocking(slot);
    let args: unknown[] = [];
    let result: unknown;
    try {
      args = this.#values.args(slot);
      result = entry.call(args);
    } catch (err) {
      this.#threw(slot, seq, err);
      return;
    }
    if (!(result instanceof Promise)) {
      this.#answer(entry, slot, seq, args, result);
      return;
    }
    if (blocking) {
      this.#threw(slot, seq, entry.refuseAsync(result));
      return;
    }
    this.pending++;
    const settle = (failed: boolean, value: unknown): void => {
      this.pending--;
      if (this.stopped()) return;
      if (failed) this.#threw(slot, seq, value);
      else this.#answer(entry, slot, seq, args, value);
      this.settled();
    };
    result.then((value) => settle(false, value), (err: unknown) => settle(true, err));
  }

  #answer(entry: TaggedEntry, slot: number, seq: number, args: unknown[], value: unknown): void {
    this.#answering = seq;
    try {
      this.#values.result(slot, value, args, entry.wire);
      this.views.meta[slot * SLOT_META + META_STATUS] = STATUS_OK;
      this.#answered[slot] = 1;
    } catch (err) {
      this.#threw(slot, seq, err);
    }
  }

  /** Answers with an error, which crosses as the message path's does. */
  #threw(slot: number, seq: number, err: unknown): void {
    this.#answering = seq;
    this.#post({ value: IsoswapError.from(err, 'ERR_ADDON_THREW', 'the call threw').toJSON() });
    this.views.meta[slot * SLOT_META + META_STATUS] = STATUS_THREW;
    this.#answered[slot] = 1;
  }

  /** The side channel, for the answer being written: held unless that call is next. */
  readonly #post = (message: unknown): void => {
    if (this.#answering === this.next()) this.side?.post(message);
    else (this.#held[this.#answering & MASK] ??= []).push(message);
  };
}
