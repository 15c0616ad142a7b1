import {
  channelViews, HEAD, HEAD_AT, MASK, META_FN, META_STATUS, SLOT_META, SLOT_VALUES, DONE,
  POSTED, STATUS_BAD_ARGUMENTS, STATUS_OK, STATUS_UNKNOWN_FUNCTION, WORKER_EXITED,
  WORKER_RUNNING, WORKER_STATE, WORKER_STOPPED, WORKER_TID, type RingHeader,
} from './ring-layout.js';
import { WorkerCodec, type RingSideChannel } from './ring-codec.js';
import { SpinBudget } from './spin-budget.js';
import { nowMs } from './clock.js';
import { blockWorker, threadWorkerSignals, type WorkerSignals } from './ring-signals.js';
import type { FastSignature } from '../wire/protocol.js';
import { platform } from '../platform/platform.js';

type NativeFunction = (...args: unknown[]) => unknown;
/** Calls one native function with the arguments of the call in `slot`. */
type Invoker = (slot: number) => unknown;

/** One function the channel may call, by its index in LoadReport.functions. */
export interface ChannelEntry {
  fn: NativeFunction;
  signature: FastSignature;
}

/** Serving without a break for this long, the server yields to the event loop so that
 *  comlink (hooks, unload, message-path calls) is never starved. */
const YIELD_MS = 2;
/** A blocked worker turns its event loop at least this often, whatever the host says. */
const BLOCK_SLICE_MS = 500;
/** How long a worker woken for a call about to come (CALL_COMING) spins for it. */
const CALL_COMING_SPIN_US = 300;
/** What may be open on a worker's event loop while it blocks: handles that only deliver
 *  what the host sends (and nudges after), or signals. A timer, an immediate, or a request
 *  in flight (fs, dns, an addon's work) needs the loop: the worker parks on it instead. */
const QUIET_RESOURCES = new Set(['MessagePort', 'PipeWrap', 'TTYWrap', 'SignalWrap']);

/** How a worker may sleep between requests. */
export interface ServerOptions {
  /** May block its thread (Atomics.wait or a futex on WAKE) while its event loop has nothing
   *  to do: a call then wakes it directly, not through the event loop. Only for workers
   *  whose host nudges after every message it posts (ring-signals.ts). */
  block: boolean;
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
  readonly #results: FastSignature['result'][];
  readonly #spin = new SpinBudget(1, 200);
  readonly #comingSpin = new SpinBudget(CALL_COMING_SPIN_US, CALL_COMING_SPIN_US);
  #tail = 0;
  #stopped = false;
  /** POSTED as read before the event loop last turned (blockWorker). */
  #turnPosted = 0;
  readonly #hasWork = (): boolean => Atomics.load(this.#header, HEAD) !== this.#tail;

  /**
   * @example
   * const server = new ChannelServer(request.channel, entries, stateBuffer, sidePort); server.start();
   */
  constructor(
    buffer: ArrayBufferLike, entries: Array<ChannelEntry | null>, state: ArrayBufferLike | undefined, side?: RingSideChannel,
    private readonly signals: WorkerSignals = threadWorkerSignals(THREAD_ID),
    private readonly options: ServerOptions = { block: false },
  ) {
    const views = channelViews(buffer);
    ({ header: this.#header, meta: this.#meta } = views);
    this.#ring = views;
    this.#codec = new WorkerCodec(views, state, side);
    this.#invokers = entries.map((e) => (e === null ? null : invoker(e, views.values, this.#codec)));
    this.#results = entries.map((e) => e?.signature.result ?? 'void');
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
    for (;;) {
      if (this.#stopped) return;
      const ran = this.#drain();
      if (nowMs() - started > YIELD_MS) {
        setImmediate(this.#serve);
        return;
      }
      // A spin waits for the request after a request; after a turn of the event loop
      // (a message, a slice's end) none is due.
      if (ran && this.#spin.spin(this.#hasWork)) continue;
      if (this.options.block && quietLoop()) {
        const outcome = blockWorker(this.#ring, this.#tail, this.#turnPosted, BLOCK_SLICE_MS, this.signals);
        if (outcome === 'turn' || (outcome === 'call' && !this.#comingSpin.spin(this.#hasWork))) {
          this.#turn();
          return;
        }
        this.#spin.caught(this.#ring.stamps[HEAD_AT]!);
        // Blocked is not busy: whatever the event loop had to do would have ended the block.
        started = nowMs();
        continue;
      }
      if (this.#park()) return;
    }
  };

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

  /** Runs every request published; whether there was one. */
  #drain(): boolean {
    const header = this.#header;
    const head = Atomics.load(header, HEAD);
    const ran = this.#tail !== head;
    while (this.#tail !== head) {
      this.#run(this.#tail & MASK);
      this.#tail = (this.#tail + 1) | 0;
      Atomics.store(header, DONE, this.#tail); // publishes the result written by #run
      this.signals.notifyHost(this.#ring);
    }
    return ran;
  }

  #run(slot: number): void {
    const meta = slot * SLOT_META;
    const index = this.#meta[meta + META_FN]!;
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
function invoker({ fn, signature }: ChannelEntry, v: Float64Array, codec: WorkerCodec): Invoker {
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
