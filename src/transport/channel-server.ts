import {
  channelViews, CPU_LOOK_EVERY, HEAD, HEAD_AT, MASK, META_FN, META_STATUS, SLOT_META, SLOT_VALUES, DONE,
  POSTED, STATUS_BAD_ARGUMENTS, STATUS_OK, STATUS_UNKNOWN_FUNCTION, WARM_UP_FN, WORKER_EXITED,
  WORKER_RUNNING, WORKER_STATE, WORKER_STOPPED, WORKER_TID, type RingHeader,
} from './ring-layout.js';
import { WorkerCodec, type RingSideChannel } from './ring-codec.js';
import { TaggedCalls, type TaggedEntry } from './tagged-calls.js';
import { SpinBudget } from './spin-budget.js';
import { nowMs } from './clock.js';
import { threadWorkerSignals, type WorkerSignals } from './ring-signals.js';
import { WakePredictor } from './wake-predictor.js';
import { announceNextBurst } from './warm-up.js';
import { blockPredicted, hostCpuShared, type Predictor } from './predicted-block.js';
import type { FastSignature } from '../wire/protocol.js';
import { platform } from '../platform/platform.js';

type NativeFunction = (...args: unknown[]) => unknown;
/** Calls one native function with the arguments of the call in `slot`. */
type Invoker = (slot: number) => unknown;

/** One function the channel may call, by its index in LoadReport.functions. */
export type ChannelEntry = NativeEntry | TaggedEntry;
export type { TaggedEntry };

/** A function with a prototype (koffi), whose slots the signature types. */
export interface NativeEntry {
  fn: NativeFunction;
  signature: FastSignature;
}

/** Serving without a break for this long, the server yields to the event loop so that
 *  comlink (hooks, unload, message-path calls) is never starved. */
const YIELD_MS = 2;
/** A blocked worker turns its event loop at least this often, whatever the host says.
 *  Nothing of isoswap's needs it (the host nudges after every message it posts): it
 *  serves what Node and V8 queue on the loop unasked (a GC's finishing step, finalizers),
 *  so long that an idle worker costs next to nothing (docs/architecture.md). */
export const BLOCK_SLICE_MS = 10_000;
/** How long a worker woken for a call about to come (CALL_COMING) spins for it. */
const CALL_COMING_SPIN_US = 300;
/** A request found after at least this long blocked begins a burst (wake-predictor.ts);
 *  the calls of one frame come closer together. */
const BURST_QUIET_MS = 1;
/** What may be open on a worker's event loop while it blocks: handles that only deliver
 *  what the host sends (and nudges after), or signals. A timer, an immediate, or a request
 *  in flight (fs, dns, an addon's work) needs the loop: the worker parks on it instead. */
const QUIET_RESOURCES = new Set(['MessagePort', 'PipeWrap', 'TTYWrap', 'SignalWrap']);
/** A worker moves off its host's CPU at most this often (a scheduler that keeps putting
 *  them together has its reasons: a busy machine). */
const LEAVE_CPU_EVERY_MS = 1;

/** How a worker may sleep between requests. */
export interface ServerOptions {
  /** May block its thread (Atomics.wait or a futex on WAKE) while its event loop has nothing
   *  to do: a call then wakes it directly, not through the event loop. Only for workers
   *  whose host nudges after every message it posts (ring-signals.ts). */
  block: boolean;
  /** When a blocked worker expects the next burst of calls (default: a
   *  {@link WakePredictor} of its own); only for a worker that blocks. */
  predictor?: Predictor;
}

/**
 * The worker side of a call channel: runs requests in order, spins a while after the last
 * one (adaptive), then sleeps so that an idle worker costs no CPU. Where it may
 * ({@link ServerOptions.block}) and its event loop has nothing pending, it blocks on the
 * ring's WAKE word, so that the next call wakes it directly; it turns its event loop when
 * the host posted a message (the host bumps POSTED after each) and every BLOCK_SLICE_MS.
 * Otherwise it parks on the event loop (signals.park: Atomics.waitAsync in a thread, a
 * doorbell pipe in a child process), which keeps serving comlink, timers and async work.
 */
export class ChannelServer {
  readonly #ring: RingHeader;
  readonly #header: Int32Array;
  readonly #meta: Int32Array;
  readonly #codec: WorkerCodec;
  readonly #invokers: Array<Invoker | null>;
  readonly #calls: TaggedCalls;
  readonly #tagged: Array<TaggedEntry | null>;
  readonly #results: FastSignature['result'][];
  readonly #spin = new SpinBudget(1, 200);
  readonly #comingSpin = new SpinBudget(CALL_COMING_SPIN_US, CALL_COMING_SPIN_US);
  /** The next call to run... */
  #tail = 0;
  /** ... and to publish (DONE). */
  #done = 0;
  #stopped = false;
  /** POSTED as read before the event loop last turned (blockWorker). */
  #turnPosted = 0;
  /** When the worker began to block after its last request (nowMs), -1 while it serves. */
  #idleSince = -1;
  /** HEAD_AT as the host stamped it for the last warm-up that woke this worker. */
  #warmUpStamp = Number.NEGATIVE_INFINITY;
  /** When the worker last moved off its host's CPU (nowMs). */
  #leftCpuAt = Number.NEGATIVE_INFINITY;
  readonly #predictor: Predictor;
  readonly #hasWork = (): boolean => Atomics.load(this.#header, HEAD) !== this.#tail;

  constructor(
    buffer: ArrayBufferLike, entries: Array<ChannelEntry | null>, state: ArrayBufferLike | undefined, side?: RingSideChannel,
    private readonly signals: WorkerSignals = threadWorkerSignals(THREAD_ID),
    private readonly options: ServerOptions = { block: false },
  ) {
    const views = channelViews(buffer);
    ({ header: this.#header, meta: this.#meta } = views);
    this.#ring = views;
    this.#codec = new WorkerCodec(views, state, side);
    this.#calls = new TaggedCalls(views, side, () => this.#done, () => this.#publish(), () => this.#stopped);
    this.#tagged = entries.map((e) => (e !== null && 'tagged' in e ? e : null));
    this.#invokers = entries.map((e) => (e === null || 'tagged' in e ? null : invoker(e, views.values, this.#codec)));
    this.#results = entries.map((e) => (e === null || 'tagged' in e ? 'void' : e.signature.result));
    this.#predictor = options.predictor ?? new WakePredictor();
  }

  start(): void {
    Atomics.store(this.#header, WORKER_TID, this.signals.id);
    Atomics.store(this.#header, WORKER_STATE, WORKER_RUNNING);
    process.once('exit', this.#exited);
    // Not a spin first, nor a block: load() answers the host once this returns.
    if (this.options.block) this.#turn();
    else if (!this.#park()) this.#serve();
  }

  /** Stops serving (before the library is unloaded) and lets the parked wait go. */
  stop(): void {
    this.#stopped = true;
    process.off('exit', this.#exited);
    this.signals.ended(this.#ring, WORKER_STOPPED);
  }

  // A host blocked in callSync cannot see the worker's 'exit' event: tell it here.
  readonly #exited = (): void => {
    this.signals.ended(this.#ring, WORKER_EXITED);
  };

  readonly #serve = (): void => {
    let started = nowMs();
    /** Woken from a block: by the first call of a burst, or by the host's warm-up (the
     *  burst's first call may be in the ring behind it by the time this worker runs). */
    let woken = false;
    for (;;) {
      if (this.#stopped) return;
      // The host stamped HEAD_AT when it woke this worker for its warm-up: no date for the
      // burst's first call, which came later (a prediction learnt from it runs early)
      if (woken && this.#isWarmUp(this.#tail)) this.#warmUpStamp = this.#ring.stamps[HEAD_AT]!;
      const ran = this.#drain();
      if (woken) {
        // A wake-up's bookkeeping waits until its answers are out: after idle, each step
        // of it (a clock read most of all) costs microseconds the host would wait for.
        if (ran) this.#burst();
        this.#spin.caught(this.#ring.stamps[HEAD_AT]!);
        woken = false;
        // Blocked is not busy: whatever the event loop had to do would have ended the block.
        started = nowMs();
      }
      if (nowMs() - started > YIELD_MS) {
        setImmediate(this.#serve);
        return;
      }
      // A spin waits for the request after a request; after a turn of the event loop
      // (a message, a slice's end) none is due.
      if (ran && this.#spin.spin(this.#hasWork)) continue;
      // A Promise pending settles on the event loop: park there.
      if (this.options.block && this.#calls.pending === 0 && quietLoop()) {
        if (ran || this.#idleSince < 0) this.#idleSince = nowMs();
        // Sleeping until the next frame: wake up off the host's CPU (#spreadCpus), or the
        // host's frame timer wakes it where this worker watches, and nothing overlaps
        if (this.#predictor.window() !== null) this.#spreadCpus();
        const outcome = blockPredicted(this.#ring, this.#tail, this.#turnPosted, BLOCK_SLICE_MS, this.signals, this.#predictor);
        if (outcome === 'turn' || (outcome === 'call' && !this.#comingSpin.spin(this.#hasWork))) {
          this.#idleSince = -1;
          this.#turn();
          return;
        }
        woken = true;
        continue;
      }
      if (this.#park()) return;
    }
  };

  /** A request was found blocked (and is answered by now): the first of a burst after a
   *  quiet gap? When the host woke the worker for it, it stamped HEAD_AT: a truer start. The host
   *  learns when the next burst is due (NEXT_BURST_AT): it warms up before it. */
  #burst(): void {
    const now = nowMs();
    const { stamps } = this.#ring;
    if (now - this.#idleSince >= BURST_QUIET_MS) {
      const stamped = stamps[HEAD_AT]!;
      const dated = stamped > this.#idleSince && stamped > this.#warmUpStamp && stamped <= now;
      this.#predictor.burst(dated ? stamped : now);
      announceNextBurst(stamps, this.#predictor);
    }
    this.#idleSince = -1;
  }

  /** Lets the event loop run (a message the host posted, a slice's end), then serves on.
   *  Two immediates: the poll phase, where messages arrive, lies between them. */
  #turn(): void {
    this.#turnPosted = Atomics.load(this.#header, POSTED);
    setImmediate(() => setImmediate(this.#serve));
  }

  /** Sleeps on the event loop until the host publishes a request; false if one came
   *  meanwhile. The host stores HEAD, then reads WORKER_STATE; we store WORKER_STATE, then
   *  compare HEAD: with sequentially consistent atomics one of us sees the other, so no
   *  request is left unnoticed. */
  #park(): boolean {
    return this.signals.park(this.#ring, this.#tail, this.#wake);
  }

  readonly #wake = (): void => {
    if (this.#stopped) return;
    this.#spin.caught(this.#ring.stamps[HEAD_AT]!);
    Atomics.store(this.#header, WORKER_STATE, WORKER_RUNNING);
    this.#serve();
  };

  /** Runs every request published; whether there was one other than a warm-up (after one
   *  alone, the next call is a frame away: no spin for it). */
  #drain(): boolean {
    const header = this.#header;
    const head = Atomics.load(header, HEAD);
    let ran = false;
    while (this.#tail !== head) {
      const seq = this.#tail;
      ran ||= !this.#isWarmUp(seq);
      this.#tail = (seq + 1) | 0;
      if ((seq & (CPU_LOOK_EVERY - 1)) === 0) this.#spreadCpus();
      if (this.#calls.pending === 0) {
        this.#run(seq & MASK, seq);
        if (this.#calls.pending === 0) {
          this.#calls.publishable(seq); // nothing held: no call before it is unpublished
          this.#done = this.#tail;
          Atomics.store(header, DONE, this.#done); // publishes the result written by #run
          this.signals.notifyHost(this.#ring);
          continue;
        }
      } else {
        this.#run(seq & MASK, seq);
      }
      this.#publish();
    }
    return ran;
  }

  /** Whether request `seq` is the host's warm-up (warm-up.ts), which runs nothing. */
  #isWarmUp(seq: number): boolean {
    return this.#meta[(seq & MASK) * SLOT_META + META_FN] === WARM_UP_FN;
  }

  /**
   * Two threads that spin for each other on one CPU wait for each other's sched_yield on
   * every call (several times a round trip on two CPUs), for as long as the scheduler leaves
   * them together, which may be tens of milliseconds with the other CPU idle. The host's
   * thread is the program's own: the worker moves.
   */
  #spreadCpus(): void {
    const host = hostCpuShared(this.#header);
    if (host < 0) return;
    const now = nowMs();
    if (now - this.#leftCpuAt < LEAVE_CPU_EVERY_MS) return;
    this.#leftCpuAt = now;
    platform().leaveCpu(host);
  }

  /** Publishes the answers written, in order, up to the first call still pending. */
  #publish(): void {
    const start = this.#done;
    while (this.#done !== this.#tail && this.#calls.publishable(this.#done)) this.#done = (this.#done + 1) | 0;
    if (this.#done === start) return;
    Atomics.store(this.#header, DONE, this.#done);
    this.signals.notifyHost(this.#ring);
  }

  #run(slot: number, seq: number): void {
    const meta = slot * SLOT_META;
    const index = this.#meta[meta + META_FN]!;
    const tagged = this.#tagged[index];
    if (tagged !== undefined && tagged !== null) {
      this.#calls.run(tagged, slot, seq);
      return;
    }
    this.#calls.answered(slot);
    if (index === WARM_UP_FN) {
      this.#meta[meta + META_STATUS] = STATUS_OK;
      return;
    }
    const invoke = this.#invokers[index];
    if (invoke === undefined || invoke === null) {
      this.#meta[meta + META_STATUS] = STATUS_UNKNOWN_FUNCTION;
      return;
    }
    let result: unknown;
    try {
      result = invoke(slot);
    } catch {
      this.#meta[meta + META_STATUS] = STATUS_BAD_ARGUMENTS;
      return;
    }
    this.#codec.result(slot, this.#results[index]!, result);
    this.#meta[meta + META_STATUS] = STATUS_OK;
  }
}

/** An invoker per function, without spreading an array for the common all-number case. */
function invoker({ fn, signature }: NativeEntry, v: Float64Array, codec: WorkerCodec): Invoker {
  if (signature.args.every((k) => k === 'number')) {
    switch (signature.args.length) {
      case 0: return () => fn();
      case 1: return (slot) => fn(v[slot * SLOT_VALUES]);
      case 2: return (slot) => { const b = slot * SLOT_VALUES; return fn(v[b], v[b + 1]); };
      case 3: return (slot) => { const b = slot * SLOT_VALUES; return fn(v[b], v[b + 1], v[b + 2]); };
      case 4: return (slot) => { const b = slot * SLOT_VALUES; return fn(v[b], v[b + 1], v[b + 2], v[b + 3]); };
    }
  }
  const kinds = signature.args;
  return (slot) => fn(...codec.args(slot, kinds));
}
/** Whether this thread's event loop has nothing that needs it to turn by itself. */
function quietLoop(): boolean {
  for (const resource of process.getActiveResourcesInfo()) if (!QUIET_RESOURCES.has(resource)) return false;
  return true;
}

/** This thread's kernel id (Linux), 0 where unknown. */
function threadId(): number {
  try {
    return platform().threadId();
  } catch {
    return 0;
  }
}

// Found when the worker starts (a standby worker: before any swap needs it).
const THREAD_ID = threadId();
