import { IsoswapError } from '../errors.js';
import { platform } from '../platform/platform.js';
import type { CallCodec } from '../host/call-codec.js';
import { registerCallback, unregisterCallback } from '../transport/host-callbacks.js';
import type { Version } from '../version/version.js';
import { ADDON_OP, WIRE_TAG, wireForm, type WireHandle, type WireView } from '../wire/addon-wire.js';
import { handleFacts, makeHandle } from './addon-handle.js';
import { kindOf, wellFormed } from '../transport/ring-values.js';
import { MAX_ARGS, MAX_CALL_BYTES } from '../transport/ring-layout.js';

/** A call's own state: the caller's arrays to write back into, listeners to remove. */
interface CallScope { views: Map<number, ArrayBufferView>; cleanups: (() => void)[]; sync: boolean; name: string; callbacks: boolean }

/**
 * The host side of the values that cross to an addon (src/wire/addon-wire.ts; the worker
 * side is src/runtime/addon-values.ts): arguments into their wire form for the version
 * that runs the call, results back, with per version the handles it made and the host
 * functions it may call back, both ended when the version ends.
 */
export class AddonCodec implements CallCodec {
  readonly #versions = new WeakMap<Version, VersionValues>();

  constructor(private readonly library: string, private readonly warn: (error: IsoswapError) => void) {}

  call(version: Version, name: string, args: unknown[], send: (args: unknown[]) => Promise<unknown>): Promise<unknown> {
    return this.#of(version).call(name, args, false, send) as Promise<unknown>;
  }

  callSync(version: Version, name: string, args: unknown[], send: (args: unknown[]) => unknown): unknown {
    return this.#of(version).call(name, args, true, send);
  }

  /**
   * The host side of a result's wire form (the inverse of the worker's
   * `GuestValues.toWire`): handles become {@link makeHandle} objects of `version`, Buffers
   * Buffers. For any path that carries an addon's result (the message path, a ring).
   */
  fromWire(version: Version, value: unknown): unknown {
    return this.#of(version).decode(value);
  }

  #of(version: Version): VersionValues {
    let values = this.#versions.get(version);
    if (values === undefined) this.#versions.set(version, values = new VersionValues(version, this.library, this.warn));
    return values;
  }
}

/** Sent a host's handle, a version finds its own object by id. */
const registry = new FinalizationRegistry<() => void>((release) => release());

class VersionValues {
  /** Handle id → the host's handle (weakly: garbage collection releases it). */
  readonly #handles = new Map<number, WeakRef<object>>();
  /** The host functions this version may call back, until it ends. */
  readonly #callbacks = new Map<(...args: unknown[]) => unknown, number>();
  #signals = 0;
  /** Calls in flight that passed host functions: the addon may be waiting for one. */
  #callbackCalls = 0;

  constructor(private readonly version: Version, private readonly library: string, private readonly warn: (error: IsoswapError) => void) {
    version.handles.onEnd(() => {
      for (const id of this.#callbacks.values()) unregisterCallback(id);
      this.#callbacks.clear();
      this.#handles.clear();
    });
  }

  /** One call: `name` with `args` (for `new`: `[path, args]`; a method: `[id, method, args]`). */
  call(name: string, args: unknown[], sync: boolean, send: (args: unknown[]) => unknown): unknown {
    // A blocked host could never run a host function the addon waits for: refused at once,
    // rather than a callSync on the ring waiting for a worker that waits for the host.
    if (sync && this.#callbackCalls > 0) {
      throw new IsoswapError('ERR_CALLBACK_PENDING', `callSync of ${name} while a call that passed host functions to version ${this.version.id} of ${this.library} is in flight: the addon may be waiting for one, which the blocked host could not run`,
        { function: name, version: this.version.id, file: this.library });
    }
    // An AsyncFunction returns a Promise a blocked host never sees settle: refused before it
    // runs, whichever path (the ring, the blocking message path) would carry it.
    if (sync && this.version.runtime.report.exports?.async.includes(name) === true) {
      throw new IsoswapError('ERR_BAD_ARGUMENTS', `${name} in ${this.library} returns a Promise: call it with exports.${name}(), not callSync`,
        { function: name, file: this.library, ran: false });
    }
    const scope: CallScope = { views: new Map(), cleanups: [], sync, name, callbacks: false };
    const userAt = name === ADDON_OP.construct ? 1 : name === ADDON_OP.method ? 2 : -1;
    // What the shared-memory ring carries goes as it is: it keeps Buffers and writes bytes
    // back itself (src/transport/ring-values.ts); anything else would send it the message way.
    if (userAt < 0 && this.version.runtime.report.fast?.[name] !== undefined && ringCarries(args)) {
      if (sync) return this.decode(send(args));
      return (send(args) as Promise<unknown>).then((value) => this.decode(value));
    }
    let wire: unknown[];
    try {
      const userArgs = userAt < 0 ? args : args[userAt] as unknown[];
      const encoded = userArgs.map((arg, index) => this.#encode(arg, scope, index));
      wire = userAt < 0 ? encoded : [...args.slice(0, userAt), encoded];
    } catch (err) {
      if (sync) throw err;
      return Promise.reject(err); // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors -- what the encoder threw, an IsoswapError
    }
    if (scope.callbacks) {
      this.#callbackCalls++;
      scope.cleanups.push(() => { this.#callbackCalls--; });
    }
    const done = (): void => { for (const cleanup of scope.cleanups) cleanup(); };
    if (sync) {
      try {
        return this.decode(send(wire), scope);
      } finally {
        done();
      }
    }
    return (send(wire) as Promise<unknown>).then((value) => this.decode(value, scope)).finally(done);
  }

  /** A host value in its wire form; `index` for an argument itself (its bytes come back). */
  #encode(value: unknown, scope: CallScope, index = -1): unknown {
    if (typeof value === 'function') return this.#callback(value as (...args: unknown[]) => unknown, scope);
    if (typeof value !== 'object' || value === null) return value;
    if (ArrayBuffer.isView(value)) {
      if (value instanceof DataView) return value;
      const bytes = covered(value);
      if (index >= 0) {
        scope.views.set(index, value);
        return { [WIRE_TAG]: 'view', index, bytes, buffer: Buffer.isBuffer(value) } satisfies WireView;
      }
      return Buffer.isBuffer(value) ? { [WIRE_TAG]: 'buffer', bytes } : bytes;
    }
    if (value instanceof AbortSignal) return this.#signal(value, scope);
    const facts = handleFacts(value);
    if (facts !== undefined) {
      if (facts.version !== this.version.id) {
        throw new IsoswapError('ERR_BAD_ARGUMENTS', `a handle of version ${facts.version} was passed to a call on version ${this.version.id} of ${this.library}: an object lives in the version that made it`,
          { function: scope.name, version: this.version.id });
      }
      return { [WIRE_TAG]: 'handle', id: facts.id, className: facts.className, methods: [] } satisfies WireHandle;
    }
    if (Array.isArray(value)) return value.map((item) => this.#encode(item, scope));
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.#encode(item, scope)]));
  }

  #callback(fn: (...args: unknown[]) => unknown, scope: CallScope): unknown {
    if (scope.sync) {
      throw new IsoswapError('ERR_NOT_CLONEABLE', `an argument of ${scope.name} (${this.library}) is a function: callSync blocks the host, which could not run it when the addon calls back; use call`,
        { function: scope.name, file: this.library, callback: true });
    }
    // A child waits for the host's answer on its fd-4 pipe, which the named-pipe channels
    // of Windows do not give it: refused there rather than a child that waits for ever.
    if (platform().namedChannels && this.version.isolation === 'process') {
      throw new IsoswapError('ERR_UNSUPPORTED_PLATFORM', `an argument of ${scope.name} (${this.library}) is a function: host callbacks from a child process are not built on Windows yet; use isolation 'thread'`,
        { function: scope.name, file: this.library, callback: true });
    }
    const ended = this.version.handles.ended;
    if (ended !== null) throw ended;
    scope.callbacks = true;
    let id = this.#callbacks.get(fn);
    if (id === undefined) {
      id = registerCallback((args) => fn(...args.map((arg) => this.decode(arg))));
      this.#callbacks.set(fn, id);
    }
    return { [WIRE_TAG]: 'function', id };
  }

  #signal(signal: AbortSignal, scope: CallScope): unknown {
    const id = ++this.#signals;
    if (!signal.aborted && !scope.sync) {
      const onAbort = (): void => { this.version.call(ADDON_OP.abort, [id, cloneable(signal.reason)]).catch(() => {}); };
      signal.addEventListener('abort', onAbort, { once: true });
      scope.cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    return { [WIRE_TAG]: 'signal', id, aborted: signal.aborted, reason: signal.aborted ? cloneable(signal.reason) : undefined };
  }

  /** A value from the version as the host gets it: handles, Buffers; what the addon wrote
   *  into the caller's arrays is written back. */
  decode(value: unknown, scope?: CallScope): unknown {
    if (typeof value !== 'object' || value === null) return value;
    const form = wireForm(value);
    if (form === undefined) {
      if (ArrayBuffer.isView(value)) return value;
      if (Array.isArray(value)) return value.map((item) => this.decode(item));
      const proto = Object.getPrototypeOf(value) as object | null;
      if (proto !== Object.prototype && proto !== null) return value;
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.decode(item)]));
    }
    switch (form[WIRE_TAG]) {
      case 'result':
        for (const [index, bytes] of form.out) this.#writeBack(scope?.views.get(index), bytes, index, scope?.name ?? '');
        return this.decode(form.value);
      case 'buffer': return Buffer.from(form.bytes.buffer, form.bytes.byteOffset, form.bytes.byteLength);
      case 'handle': return this.#handle(form);
      default: return value;
    }
  }

  #writeBack(view: ArrayBufferView | undefined, bytes: Uint8Array, index: number, name: string): void {
    if (view === undefined) return;
    if (view.byteLength !== bytes.byteLength) {
      this.warn(new IsoswapError('ERR_BUFFER_LOST', `argument ${index} of ${name} (${this.library}) was detached or resized while the call ran: what the addon wrote into it is lost`,
        { function: name, position: index, file: this.library }));
      return;
    }
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(bytes);
  }

  /** One host handle per object of the version; taking it pins the version. */
  #handle(wire: WireHandle): object {
    const known = this.#handles.get(wire.id)?.deref();
    if (known !== undefined) return known;
    const takeLease = this.version.handles.take(); // throws ERR_VERSION_RETIRED once they ended
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#handles.delete(wire.id);
      if (this.version.handles.ended === null) this.version.call(ADDON_OP.release, [[wire.id]]).catch(() => {});
      takeLease();
    };
    const handle = makeHandle(wire, {
      version: this.version.id,
      ended: () => this.version.handles.ended ?? (released ? retiredHandle(wire, this.version.id, this.library) : null),
      call: (method, args) => this.call(ADDON_OP.method, [wire.id, method, args], false, (sent) => this.version.call(ADDON_OP.method, sent)) as Promise<unknown>,
    }, () => { registry.unregister(release); release(); });
    registry.register(handle, release, release);
    this.#handles.set(wire.id, new WeakRef(handle));
    return handle;
  }
}

/** Whether the ring takes every argument (ring-values.ts `measure`, with room to spare). */
function ringCarries(args: unknown[]): boolean {
  if (args.length > MAX_ARGS) return false;
  let bytes = 0;
  for (const arg of args) {
    if (typeof arg === 'string') {
      if (!wellFormed(arg)) return false;
      bytes += arg.length * 3;
    } else if (typeof arg === 'object' && arg !== null) {
      if (kindOf(arg) < 0) return false;
      bytes += (arg as ArrayBufferView).byteLength;
    } else if (typeof arg === 'function' || typeof arg === 'symbol') {
      return false;
    }
  }
  return bytes <= MAX_CALL_BYTES / 2;
}

function retiredHandle(wire: WireHandle, version: number, library: string): IsoswapError {
  return new IsoswapError('ERR_VERSION_RETIRED', `the ${wire.className} handle ${wire.id} of version ${version} (${library}) was released`, { version, file: library, handle: wire.id });
}

/** Only the bytes a view covers: a clone would copy its whole backing store. */
function covered(view: ArrayBufferView): ArrayBufferView {
  if (view.byteLength === view.buffer.byteLength) return Buffer.isBuffer(view) ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : view;
  return Buffer.isBuffer(view) ? new Uint8Array(view) : (view as unknown as { slice(): ArrayBufferView }).slice();
}

function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}
