import {
  channelViews, HEAD, MASK, META_FN, META_STATUS, SLOT_META, SLOT_VALUES, DONE,
  STATUS_BAD_ARGUMENTS, STATUS_OK, STATUS_UNKNOWN_FUNCTION, WORKER_EXITED,
  WORKER_RUNNING, WORKER_STATE, WORKER_STOPPED, WORKER_TID,
} from './ring-layout.js';
import { WorkerCodec, type RingSideChannel } from './ring-codec.js';
import { SpinBudget } from './spin-budget.js';
import { nowMs } from './clock.js';
import { threadWorkerSignals, type WorkerSignals } from './ring-signals.js';
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

/**
 * The worker side of a call channel: runs requests in order, spins a while after the last
 * one (adaptive), then parks without blocking (signals.park: Atomics.waitAsync in a
 * thread, a doorbell pipe in a child process) so that the event loop keeps serving
 * comlink and an idle worker costs no CPU.
 */
export class ChannelServer {
  readonly #header: Int32Array;
  readonly #meta: Int32Array;
  readonly #codec: WorkerCodec;
  readonly #invokers: Array<Invoker | null>;
  readonly #results: FastSignature['result'][];
  readonly #spin = new SpinBudget(1, 200);
  #tail = 0;
  #stopped = false;
  #parkedAt = 0;
  readonly #hasWork = (): boolean => Atomics.load(this.#header, HEAD) !== this.#tail;

  /**
   * @example
   * const server = new ChannelServer(request.channel, entries, stateBuffer, sidePort); server.start();
   */
  constructor(
    buffer: ArrayBufferLike, entries: Array<ChannelEntry | null>, state: ArrayBufferLike | undefined, side?: RingSideChannel,
    private readonly signals: WorkerSignals = threadWorkerSignals(THREAD_ID),
  ) {
    const views = channelViews(buffer);
    ({ header: this.#header, meta: this.#meta } = views);
    this.#codec = new WorkerCodec(views, state, side);
    this.#invokers = entries.map((e) => (e === null ? null : invoker(e, views.values, this.#codec)));
    this.#results = entries.map((e) => e?.signature.result ?? 'void');
  }

  start(): void {
    Atomics.store(this.#header, WORKER_TID, this.signals.id);
    Atomics.store(this.#header, WORKER_STATE, WORKER_RUNNING);
    process.once('exit', this.#exited);
    if (!this.#park()) this.#serve(); // not a spin first: load() answers the host at once
  }

  /** Stops serving (before the library is unloaded) and lets the parked wait go. */
  stop(): void {
    this.#stopped = true;
    process.off('exit', this.#exited);
    this.signals.ended(this.#header, WORKER_STOPPED);
  }

  // A host blocked in callSync cannot see the worker's 'exit' event: tell it here.
  readonly #exited = (): void => {
    this.signals.ended(this.#header, WORKER_EXITED);
  };

  readonly #serve = (): void => {
    const started = nowMs();
    for (;;) {
      if (this.#stopped) return;
      this.#drain();
      if (nowMs() - started > YIELD_MS) {
        setImmediate(this.#serve);
        return;
      }
      if (this.#spin.spin(this.#hasWork)) continue;
      if (this.#park()) return;
    }
  };

  /** Sleeps until the host publishes a request; false if one came meanwhile. The host
   *  stores HEAD, then reads WORKER_STATE; we store WORKER_STATE, then compare HEAD: with
   *  sequentially consistent atomics one of us sees the other, so no request is left
   *  unnoticed. */
  #park(): boolean {
    this.#parkedAt = nowMs();
    return this.signals.park(this.#header, this.#tail, this.#wake);
  }

  readonly #wake = (): void => {
    if (this.#stopped) return;
    this.#spin.slept((nowMs() - this.#parkedAt) * 1000);
    Atomics.store(this.#header, WORKER_STATE, WORKER_RUNNING);
    this.#serve();
  };

  #drain(): void {
    const header = this.#header;
    const head = Atomics.load(header, HEAD);
    while (this.#tail !== head) {
      this.#run(this.#tail & MASK);
      this.#tail = (this.#tail + 1) | 0;
      Atomics.store(header, DONE, this.#tail); // publishes the result written by #run
      this.signals.notifyHost(header);
    }
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
