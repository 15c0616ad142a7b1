import {
  channelViews, DONE, HEAD, HOST_WAITING, MASK, MAX_ARGS, NULL_POINTER, SLOT_META, SLOT_VALUES,
  STATUS_BAD_ARGUMENTS, STATUS_OK, STATUS_UNKNOWN_FUNCTION, WORKER_EXITED, WORKER_PARKED,
  WORKER_RUNNING, WORKER_STATE, WORKER_STOPPED, WORKER_TID,
} from './ring-layout.js';
import { SpinBudget } from './spin-budget.js';
import { waitAsync } from './wait-async.js';
import type { FastArgKind, FastSignature } from '../runtime/protocol.js';
import { libc } from '../library/libc.js';

type NativeFunction = (...args: unknown[]) => unknown;
/** Calls one native function with the arguments found at `values[base...]`. */
type Invoker = (values: Float64Array, base: number) => unknown;

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
 * one (adaptive), then parks in Atomics.waitAsync so that the worker's event loop keeps
 * serving comlink and an idle worker costs no CPU.
 */
export class ChannelServer {
  readonly #header: Int32Array;
  readonly #meta: Int32Array;
  readonly #values: Float64Array;
  readonly #invokers: Array<Invoker | null>;
  readonly #spin = new SpinBudget(1, 200);
  #tail = 0;
  #stopped = false;
  #parkedAt = 0;
  readonly #hasWork = (): boolean => Atomics.load(this.#header, HEAD) !== this.#tail;

  /**
   * @example
   * const server = new ChannelServer(request.channel, entries, stateBuffer); server.start();
   */
  constructor(buffer: SharedArrayBuffer, entries: Array<ChannelEntry | null>, state: SharedArrayBuffer | undefined) {
    ({ header: this.#header, meta: this.#meta, values: this.#values } = channelViews(buffer));
    this.#invokers = entries.map((e) => (e === null ? null : invoker(e, state)));
  }

  start(): void {
    Atomics.store(this.#header, WORKER_TID, THREAD_ID);
    Atomics.store(this.#header, WORKER_STATE, WORKER_RUNNING);
    process.once('exit', this.#exited);
    if (!this.#park()) this.#serve(); // not a spin first: load() answers the host at once
  }

  /** Stops serving (before the library is unloaded) and lets the parked wait go. */
  stop(): void {
    this.#stopped = true;
    process.off('exit', this.#exited);
    Atomics.store(this.#header, WORKER_STATE, WORKER_STOPPED);
    Atomics.notify(this.#header, HEAD);
    Atomics.notify(this.#header, DONE);
  }

  // A host blocked in callSync cannot see the worker's 'exit' event: tell it here.
  readonly #exited = (): void => {
    Atomics.store(this.#header, WORKER_STATE, WORKER_EXITED);
    Atomics.notify(this.#header, DONE);
  };

  readonly #serve = (): void => {
    const started = performance.now();
    for (;;) {
      if (this.#stopped) return;
      this.#drain();
      if (performance.now() - started > YIELD_MS) {
        setImmediate(this.#serve);
        return;
      }
      if (this.#spin.spin(this.#hasWork)) continue;
      if (this.#park()) return;
    }
  };

  /** Sleeps until the host publishes a request; false if one came meanwhile. The host
   *  stores HEAD, then reads WORKER_STATE; we store WORKER_STATE, then waitAsync compares
   *  HEAD: with sequentially consistent atomics one of us sees the other, so no request
   *  is left unnoticed. */
  #park(): boolean {
    const header = this.#header;
    Atomics.store(header, WORKER_STATE, WORKER_PARKED);
    this.#parkedAt = performance.now();
    const waited = waitAsync(header, HEAD, this.#tail);
    if (!waited.async) {
      Atomics.store(header, WORKER_STATE, WORKER_RUNNING);
      return false;
    }
    void waited.value.then(this.#wake);
    return true;
  }

  readonly #wake = (): void => {
    if (this.#stopped) return;
    this.#spin.slept((performance.now() - this.#parkedAt) * 1000);
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
      if (Atomics.load(header, HOST_WAITING) !== 0) Atomics.notify(header, DONE);
    }
  }

  #run(slot: number): void {
    const meta = slot * SLOT_META;
    const base = slot * SLOT_VALUES;
    const invoke = this.#invokers[this.#meta[meta]!];
    if (invoke === undefined || invoke === null) {
      this.#meta[meta + 1] = STATUS_UNKNOWN_FUNCTION;
      return;
    }
    try {
      const result = invoke(this.#values, base);
      this.#values[base + MAX_ARGS] = result === true ? 1 : result === false || result === undefined ? 0 : (result as number);
      this.#meta[meta + 1] = STATUS_OK;
    } catch {
      this.#meta[meta + 1] = STATUS_BAD_ARGUMENTS;
    }
  }
}

/** An invoker per function, without spreading an array for the common all-number case. */
function invoker({ fn, signature }: ChannelEntry, state: SharedArrayBuffer | undefined): Invoker {
  if (signature.args.every((k) => k === 'number')) {
    switch (signature.args.length) {
      case 0: return () => fn();
      case 1: return (v, b) => fn(v[b]);
      case 2: return (v, b) => fn(v[b], v[b + 1]);
      case 3: return (v, b) => fn(v[b], v[b + 1], v[b + 2]);
      case 4: return (v, b) => fn(v[b], v[b + 1], v[b + 2], v[b + 3]);
    }
  }
  const decoders = signature.args.map((kind) => decoder(kind, state));
  return (v, b) => fn(...decoders.map((decode, i) => decode(v[b + i]!)));
}

function decoder(kind: FastArgKind, state: SharedArrayBuffer | undefined): (value: number) => unknown {
  if (kind === 'bool') return (value) => value !== 0;
  if (kind === 'state-pointer') {
    // koffi passes a typed array's own memory: a view over the state block at that offset
    // is a pointer into the very block the host holds.
    return (value) => (value === NULL_POINTER ? null : new Uint8Array(state!, value));
  }
  return (value) => value;
}

/** This thread's kernel id (Linux), 0 where unknown. */
function threadId(): number {
  try {
    return process.platform === 'linux' ? (libc().func('int gettid(void)') as () => number)() : 0;
  } catch {
    return 0;
  }
}

// Found when the worker starts (a standby worker: before any swap needs it).
const THREAD_ID = threadId();
