import { types } from 'node:util';
import { IsoswapError } from '../errors.js';
import { WIRE_TAG, wireForm, type WireHandle, type WireResult, type WireView } from '../wire/addon-wire.js';

/** Calls a host function from the guest and returns what it returned (blocking). */
export type CallHost = (id: number, args: unknown[]) => unknown;

/** The caller's typed arrays of one call, kept to send back what the addon wrote. */
export interface OutViews { index: number; view: Uint8Array; before: Uint8Array }

/**
 * One version's side of the values that cross (src/wire/addon-wire.ts): the objects it
 * handed out as handles (kept here by id until released), its AbortSignals, and the
 * stubs through which it calls host functions.
 */
export class GuestValues {
  readonly #handles = new Map<number, object>();
  readonly #ids = new WeakMap<object, number>();
  readonly #signals = new Map<number, AbortController>();
  #next = 1;
  /** Set once the version is unloaded: host functions are no longer called. */
  #ended = false;

  constructor(private readonly callHost: CallHost) {}

  /** The object behind handle `id`; ERR_VERSION_RETIRED once released. */
  handle(id: number): object {
    const target = this.#handles.get(id);
    if (target === undefined) throw new IsoswapError('ERR_VERSION_RETIRED', `handle ${id} was released`, { handle: id });
    return target;
  }

  release(ids: number[]): void {
    for (const id of ids) {
      const target = this.#handles.get(id);
      this.#handles.delete(id);
      if (target !== undefined) this.#ids.delete(target);
    }
  }

  abort(id: number, reason: unknown): void {
    this.#signals.get(id)?.abort(reason);
    this.#signals.delete(id);
  }

  /** The version ends: stubs of host functions throw from now on. */
  end(): void {
    this.#ended = true;
    this.#handles.clear();
    this.#signals.clear();
  }

  /** A value for the host: objects that structured clone would flatten or refuse become
   *  handles, Buffers stay Buffers, a view sends only the bytes it covers. */
  toWire(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (ArrayBuffer.isView(value)) {
      const covered = coveredBytes(value);
      return Buffer.isBuffer(value) ? { [WIRE_TAG]: 'buffer', bytes: covered } : covered;
    }
    if (Array.isArray(value)) return value.map((item) => this.toWire(item));
    if (types.isExternal(value)) return this.#toHandle(value, 'External');
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Object.prototype || proto === null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.toWire(item)]));
    }
    if (isCloneableBuiltin(value)) return value;
    if (types.isPromise(value)) return value; // refused by the caller's clone check
    return this.#toHandle(value, (proto as { constructor?: { name?: string } }).constructor?.name ?? 'Object');
  }

  #toHandle(target: object, className: string): WireHandle {
    let id = this.#ids.get(target);
    if (id === undefined) {
      id = this.#next++;
      this.#ids.set(target, id);
      this.#handles.set(id, target);
    }
    return { [WIRE_TAG]: 'handle', id, className, methods: methodNames(target) };
  }

  /** The host's arguments as the addon gets them; the caller's typed arrays go into `out`. */
  fromWire(value: unknown, out?: OutViews[]): unknown {
    if (typeof value !== 'object' || value === null) return value;
    const form = wireForm(value);
    if (form === undefined) {
      if (Array.isArray(value)) return value.map((item) => this.fromWire(item, out));
      const proto = Object.getPrototypeOf(value) as object | null;
      if (proto !== Object.prototype && proto !== null) return value;
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.fromWire(item, out)]));
    }
    switch (form[WIRE_TAG]) {
      case 'handle': return this.handle(form.id);
      case 'buffer': return Buffer.from(form.bytes.buffer, form.bytes.byteOffset, form.bytes.byteLength);
      case 'view': return this.#view(form, out);
      case 'function': return this.#stub(form.id);
      case 'signal': {
        const controller = new AbortController();
        if (form.aborted) controller.abort(form.reason);
        else this.#signals.set(form.id, controller);
        return controller.signal;
      }
      default: return value;
    }
  }

  #view(form: WireView, out: OutViews[] | undefined): unknown {
    const { bytes } = form;
    const view = form.buffer ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
    const raw = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    out?.push({ index: form.index, view: raw, before: raw.slice() });
    return view;
  }

  /** A function the addon may call while the call runs, or later: each call blocks this
   *  thread until the host function has run (the host's event loop runs it). */
  #stub(id: number): (...args: unknown[]) => unknown {
    return (...args: unknown[]) => {
      if (this.#ended) throw new IsoswapError('ERR_VERSION_RETIRED', 'a host callback was called after its version retired', { callback: id });
      return this.callHost(id, args.map((arg) => this.toWire(arg)));
    };
  }
}

/** The result with what the addon wrote into the caller's arrays, when it wrote. */
export function withOut(value: unknown, out: OutViews[]): unknown {
  const changed = out.filter(({ view, before }) => Buffer.compare(view, before) !== 0);
  if (changed.length === 0) return value;
  return { [WIRE_TAG]: 'result', value, out: changed.map(({ index, view }) => [index, view]) } satisfies WireResult;
}

/** Only the bytes a view covers: a clone would copy its whole backing store. */
function coveredBytes(view: ArrayBufferView): ArrayBufferView {
  if (view instanceof DataView || view.byteLength === view.buffer.byteLength || types.isSharedArrayBuffer(view.buffer)) {
    return Buffer.isBuffer(view) ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : view;
  }
  const typed = view as unknown as { slice(): ArrayBufferView };
  return Buffer.isBuffer(view) ? new Uint8Array(view) : typed.slice();
}

function isCloneableBuiltin(value: object): boolean {
  return value instanceof Error || value instanceof Date || value instanceof RegExp || value instanceof Map || value instanceof Set
    || types.isArrayBuffer(value) || types.isSharedArrayBuffer(value) || types.isBoxedPrimitive(value);
}

/** The methods along a handle's prototype chain (constructor and Object's own left out). */
function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(target) as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name !== 'constructor' && typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return [...names];
}
