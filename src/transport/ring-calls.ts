import { ARENA_BYTES, SLOTS } from './ring-layout.js';
import type { RingFunction } from './ring-codec.js';

/** How a call's promise (or a callSync's outcome) is settled. */
export type Settle = (value: unknown) => void;

/** A call waiting for room in the ring, in order. */
export interface QueuedCall {
  fn: RingFunction;
  args: unknown[];
  /** Arena bytes it needs. */
  bytes: number;
  resolve: Settle;
  reject: Settle;
}

/**
 * What the host holds of the calls it wrote into its ring until their answers are
 * collected (CallChannel), and of the calls waiting for room. Per slot: how to settle the
 * call, its function, its arguments when it passes pointers (the worker writes through
 * them), and where its arena bytes end. Arena bytes are counted as ever-growing positions,
 * handed out in order and freed in order; with the ring empty they start again at 0.
 */
export class RingCalls {
  /** Per slot, read where answers are collected (no accessor on that path). */
  readonly resolve: Array<Settle | undefined>;
  readonly reject: Array<Settle | undefined>;
  readonly fns: Array<RingFunction | undefined>;
  readonly args: Array<unknown[] | undefined>;
  readonly #arenaEnd: Float64Array;
  #arenaHead = 0;
  #arenaTail = 0;
  /** Calls waiting for room, from #queueAt on (shift() would be O(n)). */
  #queue: QueuedCall[] = [];
  #queueAt = 0;

  /** @param slots the ring's (0: a failed channel's, which holds nothing) */
  constructor(slots = SLOTS) {
    this.resolve = new Array<Settle | undefined>(slots);
    this.reject = new Array<Settle | undefined>(slots);
    this.fns = new Array<RingFunction | undefined>(slots);
    this.args = new Array<unknown[] | undefined>(slots);
    this.#arenaEnd = new Float64Array(slots);
  }

  /** Calls waiting for room. */
  get queued(): number {
    return this.#queue.length - this.#queueAt;
  }

  /** Where `bytes` of arena for the next call start (contiguous), as a position (its offset
   *  in the arena: `% ARENA_BYTES`), or -1 while they are in use; `empty`: the ring holds no
   *  call. */
  arenaAt(bytes: number, empty: boolean): number {
    if (empty) this.#arenaHead = this.#arenaTail = 0;
    let at = this.#arenaHead;
    const offset = at % ARENA_BYTES;
    if (offset + bytes > ARENA_BYTES) at += ARENA_BYTES - offset; // the rest of the lap is too short
    return at + bytes - this.#arenaTail > ARENA_BYTES ? -1 : at;
  }

  /** The call written into `slot`, whose arena bytes end at position `end` (a call without
   *  any: where the last one's end). */
  hold(slot: number, fn: RingFunction, args: unknown[], resolve: Settle, reject: Settle, end: number): void {
    this.#arenaHead = end;
    this.#arenaEnd[slot] = end;
    this.resolve[slot] = resolve;
    this.reject[slot] = reject;
    this.fns[slot] = fn;
    if (fn.pointers) this.args[slot] = args;
  }

  /** Where the arena bytes handed out so far end: a call without any ends there. */
  get arenaHead(): number {
    return this.#arenaHead;
  }

  /** Forgets the call in `slot` (its arena bytes stay in use until {@link RingCalls.free}). */
  clear(slot: number): void {
    this.resolve[slot] = this.reject[slot] = this.fns[slot] = this.args[slot] = undefined;
  }

  /** The answer in `slot` is read: its arena bytes are free again. */
  free(slot: number): void {
    this.#arenaTail = this.#arenaEnd[slot]!;
  }

  queue(call: QueuedCall): void {
    this.#queue.push(call);
  }

  /** The first call waiting, left in the queue; undefined when none waits. */
  next(): QueuedCall | undefined {
    return this.#queue[this.#queueAt];
  }

  /** Takes the first call waiting ({@link RingCalls.next}). */
  take(): void {
    if (++this.#queueAt < this.#queue.length) return;
    this.#queue = [];
    this.#queueAt = 0;
  }

  /** Takes every call waiting. */
  takeAll(): QueuedCall[] {
    const all = this.#queue.slice(this.#queueAt);
    this.#queue = [];
    this.#queueAt = 0;
    return all;
  }
}
