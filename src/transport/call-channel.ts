import { IsoswapError } from '../errors.js';
import type { LoadReport } from '../wire/protocol.js';
import {
  ARENA_BYTES, channelViews, CPU_LOOK_EVERY, createChannelBuffer, DONE, DONE_AT, HEAD, HOST_CPU, HOST_WAITING, MASK, META_FN, META_STATUS, SLOT_META,
  SLOTS, STATUS_OK, STATUS_THREW, STATUS_UNKNOWN_FUNCTION, WARM_UP_FN, WORKER_EXITED, WORKER_STATE, WORKER_STOPPED, type ChannelViews,
} from './ring-layout.js';
import { HostCodec, ringFunction, type RingFunction, type RingSideChannel } from './ring-codec.js';
import { HostValues } from './ring-values.js';
import { Deadline } from './blocking-wait.js';
import { lostBytes, type LostBytes } from './copy-back.js';
import { RingCalls, type Settle } from './ring-calls.js';
import { AnswerSpin } from './answer-spin.js';
import { AnswerPickUp } from './answer-pick-up.js';
import { HOST_ASLEEP, prewakeWorker, threadHostSignals, type HostSignals } from './ring-signals.js';
import { WarmUp } from './warm-up.js';
import { platform } from '../platform/platform.js';

/** The warm-up call (warm-up.ts): no arguments, no result. */
const WARM_UP = ringFunction('isoswap:warm-up', WARM_UP_FN, { args: [], result: 'void' });
const ignore = (): void => {};

/**
 * The host side of one worker's shared-memory call channel (ring-layout.ts), for the functions
 * the worker reported as fast. Calls made in the same turn are written into the ring as
 * they come and the worker is woken once, by a microtask; results are picked up by a
 * short adaptive spin, then by sleeping; `callSync` spins, then blocks. How a side sleeps
 * and wakes the other is the `signals` (ring-signals.ts): Atomics on a SharedArrayBuffer
 * for a worker thread, futex and doorbell pipes on a memfd for a child process.
 */
export class CallChannel {
  #buffer: ArrayBufferLike;
  #views: ChannelViews;
  #header: Int32Array;
  #meta: Int32Array;
  #codec: HostCodec;
  /** Tagged calls (an addon's exports). */
  #values: HostValues;
  readonly #fast = new Map<string, RingFunction>();
  /** What the host holds of the calls in the ring until they are answered, and the calls
   *  waiting for room. */
  #calls = new RingCalls();
  /** How long to spin for the answers awaited, by what the worker was when they went. */
  readonly #answers = new AnswerSpin();
  #head = 0;
  #tail = 0;
  #flushQueued = false;
  /** Calls (not a warm-up) were published since the last flush: what WarmUp learns from. */
  #callsPublished = false;
  /** Picks the answers of awaited calls up: spinning, then asleep until DONE moves. */
  readonly #pickUp = new AnswerPickUp({
    awaiting: () => this.#death === null && this.inflight > 0,
    spin: () => this.#answers.spin(this.#progress),
    collect: () => this.#collect(),
    sleep: (woken) => this.signals.sleep(this.#views, this.#tail, woken),
    woke: (slept) => {
      if (slept) this.#answers.budget.caught(this.#views.stamps[DONE_AT]!);
      Atomics.store(this.#header, HOST_WAITING, 0);
      if (this.#death !== null) return false;
      this.#collect();
      return true;
    },
  });
  #death: IsoswapError | null = null;
  /** The arguments of calls failed before they were answered (see fail()). */
  readonly #stranded: unknown[][] = [];
  readonly #warmUp: WarmUp;
  /** Hears of `_Out_` bytes that could not be written back (the host's `warning`). */
  onLost: LostBytes | undefined;
  readonly #lostAt = (fn: RingFunction, position: number): void => this.onLost?.(lostBytes(fn.name, position, this.label()));
  readonly #progress = (): boolean => Atomics.load(this.#header, DONE) !== this.#tail;

  /**
   * @param side carries what the ring cannot (ring-codec.ts); without it, views over
   *  SharedArrayBuffers other than the state block are copied and long string results
   *  cannot come back
   * @param signals how the two sides sleep and wake each other (default: a worker thread's)
   */
  constructor(
    private readonly label: () => string, buffer: ArrayBufferLike = createChannelBuffer(), private readonly side?: RingSideChannel,
    private readonly signals: HostSignals = threadHostSignals(label),
  ) {
    this.#buffer = buffer;
    this.#views = channelViews(buffer);
    ({ header: this.#header, meta: this.#meta } = this.#views);
    this.#codec = new HostCodec(this.#views, undefined, side);
    this.#values = new HostValues(this.#views, side);
    this.#warmUp = new WarmUp(() => this.warmUp(), this.#views.stamps);
  }

  /** Learns which functions the worker serves on the channel; `state` is the state block
   *  the worker knows as shared buffer 0. */
  open(report: LoadReport, state: ArrayBufferLike | undefined): void {
    this.#codec = new HostCodec(this.#views, state, this.side);
    for (const [name, signature] of Object.entries(report.fast ?? {})) {
      this.#fast.set(name, ringFunction(name, report.functions.indexOf(name), signature));
    }
  }

  /** The SharedArrayBuffer to hand to a worker thread (in its LoadRequest); only thread
   *  isolation asks (a child process maps its ring from the memfd it inherited). */
  get buffer(): SharedArrayBuffer {
    return this.#buffer as SharedArrayBuffer;
  }

  /** After posting a message to the worker (comlink, the blocking message path): a worker
   *  blocked on the ring runs no event loop until it is nudged. */
  nudge(): void {
    if (this.#death === null) this.signals.nudge(this.#views);
  }

  /** Whether a call was ever published on this ring. */
  get called(): boolean {
    return this.#head !== 0;
  }

  /** Calls written and not yet settled. */
  get inflight(): number {
    return ((this.#head - this.#tail) | 0) + this.#calls.queued;
  }

  /**
   * Runs a call on the channel; undefined when it cannot go there (not a fast function,
   * or arguments the ring does not carry, ring-codec.ts): the caller then takes the
   * message path, whose koffi gives the same result or the same error.
   */
  call(name: string, args: unknown[]): Promise<unknown> | undefined {
    const fn = this.#fast.get(name);
    const bytes = fn === undefined ? -1 : this.#measure(fn, args);
    if (bytes < 0) return undefined;
    if (this.#death !== null) return Promise.reject(this.#death);
    this.#prewake();
    this.#callsPublished = true;
    return new Promise((resolve, reject) => {
      if (this.#calls.queued > 0 || this.#full(bytes)) this.#calls.queue({ fn: fn!, args, bytes, resolve, reject });
      else this.#publish(fn!, args, bytes, resolve, reject);
      this.#queueFlush();
    });
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flush);
  }

  /** A frame is due (warm-up.ts): one call that runs nothing, to a worker that serves and
   *  has nothing to do; what the warm-up's timer calls. */
  warmUp(): void {
    if (this.#death !== null || this.inflight > 0) return;
    const state = Atomics.load(this.#header, WORKER_STATE);
    if (state === WORKER_STOPPED || state === WORKER_EXITED) return;
    this.#publish(WARM_UP, [], 0, ignore, ignore);
    this.#lookAtCpu();
    this.#queueFlush();
  }

  /**
   * The blocking form: spins, then sleeps (signals.block), waking every LIVENESS_MS to
   * check that the worker lives; throws ERR_CALL_TIMEOUT after `timeoutMs` (0: no
   * limit; the call may still run). Returns `NOT_FAST` when the call cannot go on the
   * channel (as for {@link CallChannel.call}): the caller takes the blocking message path.
   */
  callSync(name: string, args: unknown[], timeoutMs = 0): unknown {
    const fn = this.#fast.get(name);
    const bytes = fn === undefined ? -1 : this.#measure(fn, args);
    if (bytes < 0) return NOT_FAST;
    if (this.#death !== null) throw this.#death;
    this.#prewake();
    const deadline = new Deadline(name, timeoutMs);
    while (this.#calls.queued > 0 || this.#full(bytes)) {
      this.#block(deadline);
      this.#collect();
    }
    let settled = false;
    let failed = false;
    let outcome: unknown;
    this.#publish(fn!, args, bytes, (value) => { settled = true; outcome = value; }, (error) => { settled = failed = true; outcome = error; }, true);
    this.#warmUp.published();
    while (!settled) {
      this.#block(deadline);
      this.#collect();
    }
    if (failed) throw outcome;
    return outcome;
  }

  /** Blocks until every call written (or queued) on the channel is answered: a swap's
   *  drain, from a host blocked in callSync. */
  settleAllSync(deadline: Deadline): void {
    if (this.#death !== null) return;
    this.#collect();
    while (this.inflight > 0) {
      this.#block(deadline);
      this.#collect();
    }
  }

  /**
   * Settles the calls the worker answered (whatever the order the host learns of the
   * answers and of the death: a busy event loop may see the exit first), then rejects
   * every other call, and every later one, with `error`.
   */
  fail(error: IsoswapError): void {
    if (this.#death !== null) return;
    this.#death = error;
    this.#warmUp.stop();
    this.#collect(false); // the calls answered; queued calls stay queued (they fail next)
    const calls = this.#calls;
    for (let seq = this.#tail; seq !== this.#head; seq = (seq + 1) | 0) {
      const slot = seq & MASK;
      const reject = calls.reject[slot];
      // A worker thread killed in a native call runs on (it cannot be stopped) and may
      // still write the memory it was given the address of: that memory stays alive.
      const args = calls.args[slot];
      if (args !== undefined) this.#stranded.push(args);
      calls.clear(slot);
      reject?.(error);
    }
    this.#tail = this.#head;
    for (const call of calls.takeAll()) call.reject(error);
    Atomics.notify(this.#header, DONE); // lets a pending waitAsync go (thread isolation)
    // A host keeps retired versions in its history: let go of the ring (shared memory and
    // slot arrays) now; nothing is written into it after a failure.
    this.#calls = new RingCalls(0);
    this.#buffer = new SharedArrayBuffer(0);
    RELEASED ??= channelViews(createChannelBuffer());
    this.#views = RELEASED;
    this.#header = RELEASED.header;
    this.#meta = RELEASED.meta;
    this.#codec = new HostCodec(RELEASED, undefined);
    this.#values = new HostValues(RELEASED);
  }

  /** Arena bytes the call needs, -1 when it cannot go on the ring. */
  #measure(fn: RingFunction, args: unknown[]): number {
    if (fn.tagged) return this.#values.measure(fn, args);
    if (!fn.plain) return this.#codec.measure(fn, args);
    if (args.length !== fn.signature.args.length) return -1;
    for (let i = 0; i < args.length; i++) if (typeof args[i] !== 'number') return -1;
    return 0;
  }

  /** No free slot, or no arena room for `bytes` more. */
  #full(bytes: number): boolean {
    return ((this.#head - this.#tail) | 0) >= SLOTS || (bytes > 0 && this.#calls.arenaAt(bytes, this.#head === this.#tail) < 0);
  }

  /** Writes a call into the next slot and publishes it; `blocking`: for callSync. */
  #publish(fn: RingFunction, args: unknown[], bytes: number, resolve: Settle, reject: Settle, blocking = false): void {
    const seq = this.#head;
    const slot = seq & MASK;
    this.#meta[slot * SLOT_META + META_FN] = fn.index;
    const calls = this.#calls;
    if (bytes > 0) {
      const at = calls.arenaAt(bytes, this.#head === this.#tail);
      const offset = at % ARENA_BYTES;
      const end = fn.tagged ? this.#values.write(slot, fn, args, offset, blocking) : this.#codec.write(slot, fn, args, offset);
      calls.hold(slot, fn, args, resolve, reject, at + end - offset);
    } else {
      this.#codec.write(slot, fn, args, 0);
      calls.hold(slot, fn, args, resolve, reject, calls.arenaHead);
    }
    this.#head = (seq + 1) | 0;
    Atomics.store(this.#header, HEAD, this.#head);
    if ((seq & (CPU_LOOK_EVERY - 1)) === 0) this.#lookAtCpu();
  }

  /** Tells the worker where the host runs (HOST_CPU): every CPU_LOOK_EVERY calls, and at
   *  each warm-up, where the host will be at the frame's first call. */
  #lookAtCpu(): void {
    Atomics.store(this.#header, HOST_CPU, platform().currentCpu() + 1);
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    this.#wakeWorker();
    if (this.#callsPublished) {
      this.#callsPublished = false;
      this.#warmUp.published();
    }
    this.#pickUp.run();
  };

  /** A blocked worker's wake-up takes longer than anything the host does before it
   *  publishes (after idle, the host's own first steps are slow too): start it first. */
  #prewake(): void {
    this.#answers.found(prewakeWorker(this.#views, this.signals));
  }

  #wakeWorker(): void {
    if (this.signals.wakeWorker(this.#views)) this.#answers.woke();
  }

  /** Blocks until the worker answers one more call (or is found dead: then throws). */
  #block(deadline: Deadline): void {
    this.#wakeWorker(); // calls written in this turn may not have been announced yet
    const budget = this.#answers.budget;
    if (this.#answers.spin(this.#progress)) return;
    try {
      while (!this.#progress()) {
        this.signals.block(this.#views, this.#tail, deadline.sliceMs());
        if (!this.#progress()) this.assertAlive();
      }
    } finally {
      Atomics.store(this.#header, HOST_WAITING, this.#pickUp.asleep ? HOST_ASLEEP : 0);
      budget.caught(this.#views.stamps[DONE_AT]!);
    }
  }

  /** For a host that blocks: throws (and fails every call) once the worker is gone. */
  assertAlive(): void {
    if (this.#death !== null) throw this.#death;
    if (!this.signals.workerAlive(this.#views)) {
      const death = this.signals.deathError();
      this.fail(death); // a child's handle may have failed us already: then a no-op
      throw this.#death ?? death;
    }
  }

  /** Settles every call the worker has answered and, unless `moveQueued` is false, moves
   *  queued calls into free slots. */
  #collect(moveQueued = true): void {
    const calls = this.#calls;
    const done = Atomics.load(this.#header, DONE);
    while (this.#tail !== done) {
      const slot = this.#tail & MASK;
      const resolve = calls.resolve[slot]!;
      const reject = calls.reject[slot]!;
      const fn = calls.fns[slot]!;
      const args = calls.args[slot];
      calls.clear(slot);
      this.#tail = (this.#tail + 1) | 0;
      const status = this.#meta[slot * SLOT_META + META_STATUS];
      if (status === STATUS_OK || status === STATUS_THREW) {
        let value: unknown;
        try {
          value = status === STATUS_THREW ? this.#thrown(fn) : fn.tagged ? this.#values.read(slot, fn, args, this.#lostAt) : this.#codec.read(slot, fn, args, this.#lostAt);
        } catch (err) { // a long result whose worker died before it was sent whole
          calls.free(slot);
          reject(this.#death ?? new IsoswapError('ERR_VERSION_CRASHED', `${this.label()} died while sending the result of ${fn.name}`, { function: fn.name }, { cause: err }));
          continue;
        }
        calls.free(slot); // after the read
        if (status === STATUS_OK) resolve(value);
        else reject(value);
      } else {
        calls.free(slot);
        reject(status === STATUS_UNKNOWN_FUNCTION
          ? new IsoswapError('ERR_UNKNOWN_FUNCTION', `${this.label()} does not serve ${fn.name}`, { function: fn.name })
          : new IsoswapError('ERR_BAD_ARGUMENTS', `bad arguments for ${fn.name} in ${this.label()}`, { function: fn.name }));
      }
    }
    if (this.#tail === this.#head) this.#answers.answered();
    if (moveQueued && calls.queued > 0) {
      for (let next = calls.next(); next !== undefined && !this.#full(next.bytes); next = calls.next()) {
        calls.take();
        this.#publish(next.fn, next.args, next.bytes, next.resolve, next.reject);
      }
      this.#wakeWorker();
    }
  }

  /** The error a tagged call threw, from the side channel (as the message path carries it). */
  #thrown(fn: RingFunction): IsoswapError {
    const posted = this.side?.receive() as { value: unknown } | undefined;
    if (!IsoswapError.isSerialized(posted?.value)) throw new Error(`the error of ${fn.name} never arrived`);
    return IsoswapError.fromJSON(posted.value);
  }

}

/** The memory every failed channel points at instead of its own ring (made on first use). */
let RELEASED: ChannelViews | undefined;

/** What {@link CallChannel.callSync} returns for a function that is not on the channel. */
export const NOT_FAST: unique symbol = Symbol('isoswap.notFast');
