import { IsoswapError } from '../errors.js';
import type { FastSignature, LoadReport } from '../runtime/protocol.js';
import {
  channelViews, createChannelBuffer, DONE, HEAD, HOST_WAITING, MASK, MAX_ARGS, NULL_POINTER, SLOT_META,
  SLOT_VALUES, SLOTS, STATUS_OK, STATUS_UNKNOWN_FUNCTION, WORKER_EXITED, WORKER_PARKED, WORKER_STATE,
  WORKER_STOPPED, WORKER_TID,
} from './ring-layout.js';
import { Deadline } from './blocking-wait.js';
import { SpinBudget } from './spin-budget.js';
import { waitAsync } from './wait-async.js';
import { threadAlive } from './thread-alive.js';

interface FastFunction {
  name: string;
  index: number;
  signature: FastSignature;
}

type Settle = (value: unknown) => void;

interface Queued {
  fn: FastFunction;
  args: unknown[];
  resolve: Settle;
  reject: Settle;
}

/** After picking results up by spinning (in microtasks) for this long, the host waits for
 *  a turn of the event loop: a caller awaiting calls in a loop would otherwise starve
 *  timers and I/O, as a loop over resolved promises does. */
const YIELD_MS = 1;

/**
 * The host side of one worker's shared-memory call channel (layout.ts), for the functions
 * the worker reported as fast. Calls made in the same turn are written into the ring as
 * they come and the worker is woken once, by a microtask; results are picked up by a
 * short adaptive spin, then by Atomics.waitAsync. `callSync` blocks in Atomics.wait.
 */
export class CallChannel {
  #buffer = createChannelBuffer();
  #header: Int32Array;
  #meta: Int32Array;
  #values: Float64Array;
  readonly #fast = new Map<string, FastFunction>();
  #state: SharedArrayBuffer | undefined;
  /** Per slot: how to settle the call in it. */
  #resolve: Array<Settle | undefined> = new Array(SLOTS);
  #reject: Array<Settle | undefined> = new Array(SLOTS);
  #fns: Array<FastFunction | undefined> = new Array(SLOTS);
  /** Calls waiting for a free slot, in order, from #overflowAt on (shift() would be O(n)). */
  #overflow: Queued[] = [];
  #overflowAt = 0;
  readonly #spin = new SpinBudget(1, 50);
  #head = 0;
  #tail = 0;
  #flushQueued = false;
  /** A pick-up is scheduled (waitAsync or setImmediate): flushes leave results to it. */
  #pickUpScheduled = false;
  /** In Atomics.waitAsync on DONE. */
  #asleep = false;
  /** When picking up by spinning began, -1 after a turn of the event loop. */
  #spinningSince = -1;
  /** When the host last went to sleep waiting for results. */
  #sleptAt = 0;
  #death: IsoswapError | null = null;
  readonly #progress = (): boolean => Atomics.load(this.#header, DONE) !== this.#tail;

  /**
   * @example
   * const channel = new CallChannel(() => `worker of ${library}`);
   */
  constructor(private readonly label: () => string) {
    ({ header: this.#header, meta: this.#meta, values: this.#values } = channelViews(this.#buffer));
  }

  /** Learns which functions the worker serves on the channel; pointer arguments must be
   *  views over `state`. */
  open(report: LoadReport, state: SharedArrayBuffer | undefined): void {
    this.#state = state;
    for (const [name, signature] of Object.entries(report.fast ?? {})) {
      this.#fast.set(name, { name, index: report.functions.indexOf(name), signature });
    }
  }

  /** The shared memory to hand to the worker (in its LoadRequest). */
  get buffer(): SharedArrayBuffer {
    return this.#buffer;
  }

  /** Calls written and not yet settled. */
  get inflight(): number {
    return ((this.#head - this.#tail) | 0) + this.#queued();
  }

  /**
   * Runs a call on the channel; undefined when it cannot go there (not a fast function,
   * or arguments that are not numbers): the caller then takes the message path, whose
   * koffi gives the same result or the same error.
   *
   * @example
   * const result = channel.call('do_tick', [1]) ?? viaMessage('do_tick', [1]);
   */
  call(name: string, args: unknown[]): Promise<unknown> | undefined {
    const fn = this.#fast.get(name);
    if (fn === undefined || !this.#fits(fn.signature, args)) return undefined;
    if (this.#death !== null) return Promise.reject(this.#death);
    return new Promise((resolve, reject) => {
      if (this.#queued() > 0 || this.#full()) this.#overflow.push({ fn, args, resolve, reject });
      else this.#publish(fn, args, resolve, reject);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(this.#flush);
      }
    });
  }

  /**
   * The blocking form: spins, then sleeps in Atomics.wait, waking every LIVENESS_MS to
   * check that the worker thread lives; throws ERR_CALL_TIMEOUT after `timeoutMs` (0: no
   * limit; the call may still run). Returns `NOT_FAST` when the call cannot go on the
   * channel (as for {@link CallChannel.call}): the caller takes the blocking message path.
   *
   * @example
   * const r = channel.callSync('do_tick', [1]); if (r === NOT_FAST) ...
   */
  callSync(name: string, args: unknown[], timeoutMs = 0): unknown {
    const fn = this.#fast.get(name);
    if (fn === undefined || !this.#fits(fn.signature, args)) return NOT_FAST;
    if (this.#death !== null) throw this.#death;
    const deadline = new Deadline(name, timeoutMs);
    while (this.#queued() > 0 || this.#full()) {
      this.#block(deadline);
      this.#collect();
    }
    let settled = false;
    let failed = false;
    let outcome: unknown;
    this.#publish(fn, args, (value) => { settled = true; outcome = value; }, (error) => { settled = failed = true; outcome = error; });
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

  /** Rejects every call not yet settled, and every later one, with `error`. */
  fail(error: IsoswapError): void {
    if (this.#death !== null) return;
    this.#death = error;
    for (let seq = this.#tail; seq !== this.#head; seq = (seq + 1) | 0) {
      const slot = seq & MASK;
      const reject = this.#reject[slot];
      this.#clear(slot);
      reject?.(error);
    }
    this.#tail = this.#head;
    const queued = this.#overflow.slice(this.#overflowAt);
    this.#overflow = [];
    this.#overflowAt = 0;
    for (const call of queued) call.reject(error);
    Atomics.notify(this.#header, DONE); // lets a pending waitAsync go
    // A host keeps retired versions in its history: let go of the ring (~160 KB of shared
    // memory, ~50 KB of slot arrays) now; nothing is written into it after a failure.
    this.#resolve = [];
    this.#reject = [];
    this.#fns = [];
    this.#buffer = new SharedArrayBuffer(0);
    const dead = channelViews(RELEASED);
    this.#header = dead.header;
    this.#meta = dead.meta;
    this.#values = dead.values;
  }

  #fits(signature: FastSignature, args: unknown[]): boolean {
    const kinds = signature.args;
    if (args.length !== kinds.length) return false;
    for (let i = 0; i < kinds.length; i++) {
      const arg = args[i];
      const kind = kinds[i];
      if (kind === 'number' ? typeof arg !== 'number'
        : kind === 'bool' ? typeof arg !== 'boolean'
        : !(arg === null || (ArrayBuffer.isView(arg) && arg.buffer === this.#state))) return false;
    }
    return true;
  }

  #full(): boolean {
    return ((this.#head - this.#tail) | 0) >= SLOTS;
  }

  #publish(fn: FastFunction, args: unknown[], resolve: Settle, reject: Settle): void {
    const seq = this.#head;
    const slot = seq & MASK;
    const base = slot * SLOT_VALUES;
    this.#meta[slot * SLOT_META] = fn.index;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      this.#values[base + i] = typeof arg === 'number' ? arg
        : typeof arg === 'boolean' ? (arg ? 1 : 0)
        : arg === null ? NULL_POINTER : (arg as ArrayBufferView).byteOffset;
    }
    this.#resolve[slot] = resolve;
    this.#reject[slot] = reject;
    this.#fns[slot] = fn;
    this.#head = (seq + 1) | 0;
    Atomics.store(this.#header, HEAD, this.#head);
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    this.#wakeWorker();
    this.#pickUp();
  };

  #wakeWorker(): void {
    if (Atomics.load(this.#header, WORKER_STATE) === WORKER_PARKED) Atomics.notify(this.#header, HEAD);
  }

  /** Collects results while they come (spinning), then sleeps until the next one. */
  #pickUp(): void {
    if (this.#pickUpScheduled || this.#death !== null || this.inflight === 0) return;
    const now = performance.now();
    if (this.#spinningSince < 0) this.#spinningSince = now;
    else if (now - this.#spinningSince > YIELD_MS) {
      this.#pickUpScheduled = true;
      setImmediate(this.#woken);
      return;
    }
    while (!this.#pickUpScheduled && this.#death === null && this.inflight > 0) {
      if (!this.#spin.spin(this.#progress)) {
        this.#sleep();
        return;
      }
      this.#collect();
    }
  }

  #sleep(): void {
    this.#pickUpScheduled = this.#asleep = true;
    this.#sleptAt = performance.now();
    Atomics.store(this.#header, HOST_WAITING, 1);
    const waited = waitAsync(this.#header, DONE, this.#tail);
    if (waited.async) void waited.value.then(this.#woken);
    else this.#woken();
  }

  readonly #woken = (): void => {
    if (this.#asleep) this.#spin.slept((performance.now() - this.#sleptAt) * 1000);
    this.#pickUpScheduled = this.#asleep = false;
    this.#spinningSince = -1;
    Atomics.store(this.#header, HOST_WAITING, 0);
    if (this.#death !== null) return;
    this.#collect();
    this.#pickUp();
  };

  /** Blocks until the worker answers one more call (or is found dead: then throws). */
  #block(deadline: Deadline): void {
    this.#wakeWorker(); // calls written in this turn may not have been announced yet
    if (this.#spin.spin(this.#progress)) return;
    const header = this.#header;
    Atomics.store(header, HOST_WAITING, 1);
    const sleptAt = performance.now();
    try {
      while (Atomics.wait(header, DONE, this.#tail, deadline.sliceMs()) === 'timed-out' || !this.#progress()) this.assertAlive();
    } finally {
      Atomics.store(header, HOST_WAITING, this.#asleep ? 1 : 0);
      this.#spin.slept((performance.now() - sleptAt) * 1000);
    }
  }

  /** For a host that blocks: throws (and fails every call) once the worker is gone. */
  assertAlive(): void {
    if (this.#death !== null) throw this.#death;
    const state = Atomics.load(this.#header, WORKER_STATE);
    if (state === WORKER_EXITED || state === WORKER_STOPPED || !threadAlive(Atomics.load(this.#header, WORKER_TID))) {
      this.fail(new IsoswapError('ERR_VERSION_CRASHED', `${this.label()} is gone: its thread ended during a call`));
      throw this.#death;
    }
  }

  /** Settles every call the worker has answered and moves queued calls into free slots. */
  #collect(): void {
    const done = Atomics.load(this.#header, DONE);
    while (this.#tail !== done) {
      const slot = this.#tail & MASK;
      const resolve = this.#resolve[slot]!;
      const reject = this.#reject[slot]!;
      const fn = this.#fns[slot]!;
      this.#clear(slot);
      this.#tail = (this.#tail + 1) | 0;
      const status = this.#meta[slot * SLOT_META + 1];
      if (status === STATUS_OK) {
        const value = this.#values[slot * SLOT_VALUES + MAX_ARGS]!;
        resolve(fn.signature.result === 'number' ? value : fn.signature.result === 'bool' ? value !== 0 : undefined);
      } else {
        reject(status === STATUS_UNKNOWN_FUNCTION
          ? new IsoswapError('ERR_UNKNOWN_FUNCTION', `${this.label()} does not serve ${fn.name}`, { function: fn.name })
          : new IsoswapError('ERR_BAD_ARGUMENTS', `bad arguments for ${fn.name} in ${this.label()}`, { function: fn.name }));
      }
    }
    if (this.#queued() > 0) {
      while (this.#queued() > 0 && !this.#full()) {
        const { fn, args, resolve, reject } = this.#overflow[this.#overflowAt++]!;
        this.#publish(fn, args, resolve, reject);
      }
      if (this.#queued() === 0) {
        this.#overflow = [];
        this.#overflowAt = 0;
      }
      this.#wakeWorker();
    }
  }

  #queued(): number {
    return this.#overflow.length - this.#overflowAt;
  }

  #clear(slot: number): void {
    this.#resolve[slot] = this.#reject[slot] = this.#fns[slot] = undefined;
  }
}

/** The memory every failed channel points at instead of its own ring. */
const RELEASED = createChannelBuffer();

/** What {@link CallChannel.callSync} returns for a function that is not on the channel. */
export const NOT_FAST: unique symbol = Symbol('isoswap.notFast');
