/**
 * Tagged values in a ring slot (ring-layout.ts), for functions without a prototype: a
 * Node-API addon's exports. Each argument and the result carries its own 4-bit tag
 * (META_TAGS: one per argument; the argument count is in META_STATUS on the way in):
 *  - VALUE_NUMBER: a float64 word; VALUE_INT64 / VALUE_UINT64: a BigInt that fits 64 bits;
 *  - VALUE_NULL, VALUE_UNDEFINED, VALUE_FALSE, VALUE_TRUE: no payload;
 *  - VALUE_STRING: int32 pair (arena offset, UTF-8 length);
 *  - VALUE_BIGINT: the same pair, over the BigInt's hexadecimal text (any size);
 *  - VALUE_BYTES: the same pair, over a typed array's bytes copied into the arena, of the
 *    kind in META_ELEMENTS (4 bits per argument: {@link KINDS}, a Buffer is its own kind).
 * The worker hands the addon a fresh copy of each array (as a message's clone would be:
 * the addon may keep it), and after the call copies back the bytes of those it changed,
 * which the host writes into the caller's views (copy-back.ts). The result is written into
 * the room the host reserved for it; one that does not fit there, or that the ring cannot
 * carry (an object, an array...), is posted on the side channel (VALUE_POSTED), in the form
 * the message path sends: the worker's `wire` hook makes it (addon-service.ts). The worker
 * end is ring-values-worker.ts. After the
 * call META_ELEMENTS holds the result's tag (bits 0-3), its array kind (4-7; KIND_AS_IS for
 * a posted value taken as it comes) and the arguments written into (8-15, one bit each).
 */
import {
  MAX_ARGS, MAX_CALL_BYTES, META_ELEMENTS, META_STATUS, META_TAGS, SLOT_META, SLOT_VALUES, TAGGED_BLOCKING, type ChannelViews,
} from './ring-layout.js';
import {
  align8, ELEMENT_KINDS, INT64_MIN, MAX_RESULT_RESERVE, SIGNED_LIMIT, UINT64_LIMIT, writeUtf8,
  type RingFunction, type RingSideChannel, type TypedArray,
} from './ring-codec.js';
import { writeBack } from './copy-back.js';

export const VALUE_NUMBER = 0;
export const VALUE_INT64 = 1;
export const VALUE_UINT64 = 2;
export const VALUE_NULL = 3;
export const VALUE_STRING = 4;
export const VALUE_BYTES = 5;
export const VALUE_BIGINT = 6;
export const VALUE_UNDEFINED = 7;
export const VALUE_FALSE = 8;
export const VALUE_TRUE = 9;
export const VALUE_POSTED = 10;

/** The array kinds: the typed arrays in ring-codec.ts order, then Buffer. */
const KINDS = [...ELEMENT_KINDS, Buffer] as const;
type ArrayClass = (typeof KINDS)[number];
const KIND_OF = new Map<unknown, number>(KINDS.map((c, i) => [c, i]));
export const KIND_AS_IS = 15;

/** Reports an argument whose written-back bytes could not be written (copy-back.ts). */
type Lost = (fn: RingFunction, position: number) => void;

/** The array kind of `value`, or -1 when it is not an array the ring carries: a typed
 *  array or Buffer (no subclass) over an ArrayBuffer with memory that cannot be resized.
 *  Shared memory (it would be shared on the message path) and detached or empty buffers
 *  take the message path. */
export function kindOf(value: object): number {
  if (!ArrayBuffer.isView(value)) return -1;
  const kind = KIND_OF.get(value.constructor);
  if (kind === undefined) return -1;
  const { buffer } = value;
  return buffer instanceof ArrayBuffer && buffer.byteLength > 0 && (buffer as { resizable?: boolean }).resizable !== true ? kind : -1;
}

/** The host end: measures, writes arguments, reads results. */
export class HostValues {
  constructor(private readonly views: ChannelViews, private readonly side?: RingSideChannel) {}

  /** Arena bytes the call needs, or -1 when an argument needs the message path. */
  measure(fn: RingFunction, args: unknown[]): number {
    if (args.length > MAX_ARGS) return -1;
    let bytes = fn.reserve;
    for (const arg of args) {
      switch (typeof arg) {
        case 'number': case 'boolean': case 'undefined': break;
        case 'string':
          if (!wellFormed(arg)) return -1; // a lone surrogate: UTF-8 cannot carry it, a clone can
          bytes += align8(arg.length * 3);
          break;
        case 'bigint': if (arg < INT64_MIN || arg >= UINT64_LIMIT) bytes += align8(arg.toString(16).length); break;
        case 'object':
          if (arg === null) break;
          if (kindOf(arg) < 0) return -1;
          bytes += align8((arg as TypedArray).byteLength);
          break;
        default: return -1; // functions, symbols
      }
    }
    return bytes > MAX_CALL_BYTES ? -1 : bytes;
  }

  /** Writes a call measured by {@link measure} into `slot`, its arena bytes from `at`;
   *  returns where its arena use ends. */
  write(slot: number, fn: RingFunction, args: unknown[], at: number, blocking: boolean): number {
    const { values, words, int64, uint64, arena, meta } = this.views;
    const base = slot * SLOT_VALUES;
    let tags = 0;
    let kinds = 0;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      const w = (base + i) * 2;
      let tag: number;
      switch (typeof arg) {
        case 'number': values[base + i] = arg; tag = VALUE_NUMBER; break;
        case 'boolean': tag = arg ? VALUE_TRUE : VALUE_FALSE; break;
        case 'undefined': tag = VALUE_UNDEFINED; break;
        case 'bigint':
          if (arg >= INT64_MIN && arg < SIGNED_LIMIT) { int64[base + i] = arg; tag = VALUE_INT64; break; }
          if (arg >= 0n && arg < UINT64_LIMIT) { uint64[base + i] = arg; tag = VALUE_UINT64; break; }
          at = this.#text(arg.toString(16), w, at);
          tag = VALUE_BIGINT;
          break;
        case 'string': at = this.#text(arg, w, at); tag = VALUE_STRING; break;
        default: {
          if (arg === null) { tag = VALUE_NULL; break; }
          const view = arg as TypedArray;
          kinds |= kindOf(view) << (4 * i);
          copyBytes(bytesOf(view), arena, at);
          words[w] = at;
          words[w + 1] = view.byteLength;
          at += align8(view.byteLength);
          tag = VALUE_BYTES;
        }
      }
      tags |= tag << (4 * i);
    }
    const r = (base + MAX_ARGS) * 2;
    words[r] = at;
    words[r + 1] = fn.reserve;
    at += fn.reserve;
    const m = slot * SLOT_META;
    meta[m + META_TAGS] = tags;
    meta[m + META_ELEMENTS] = kinds;
    meta[m + META_STATUS] = args.length | (blocking ? TAGGED_BLOCKING : 0);
    return at;
  }

  #text(text: string, w: number, at: number): number {
    const { words, arena } = this.views;
    const length = writeUtf8(arena, text, at, text.length * 3);
    words[w] = at;
    words[w + 1] = length;
    return align8(at + length);
  }

  /** The result of the call answered in `slot`; writes back into `args` the arrays the
   *  addon wrote into (`lost` hears of a view detached or shrunk meanwhile). */
  read(slot: number, fn: RingFunction, args: unknown[] | undefined, lost?: Lost): unknown {
    const { values, words, int64, uint64, arena, meta } = this.views;
    const at = slot * SLOT_VALUES + MAX_ARGS;
    const answer = meta[slot * SLOT_META + META_ELEMENTS]!;
    const written = (answer >> 8) & 0xff;
    if (written !== 0 && args !== undefined) {
      for (let i = 0; i < args.length; i++) {
        if ((written & (1 << i)) === 0) continue;
        const w = (slot * SLOT_VALUES + i) * 2;
        if (!writeBack(args[i] as ArrayBufferView, arena.subarray(words[w], words[w]! + words[w + 1]!))) lost?.(fn, i);
      }
    }
    const kind = (answer >> 4) & 15;
    const offset = words[at * 2]!;
    const length = words[at * 2 + 1]!;
    switch (answer & 15) {
      case VALUE_NUMBER: return values[at];
      case VALUE_INT64: return int64[at];
      case VALUE_UINT64: return uint64[at];
      case VALUE_NULL: return null;
      case VALUE_UNDEFINED: return undefined;
      case VALUE_FALSE: return false;
      case VALUE_TRUE: return true;
      case VALUE_STRING: return arena.toString('utf8', offset, offset + length);
      case VALUE_BIGINT: return bigintOf(arena.toString('latin1', offset, offset + length));
      case VALUE_BYTES: return arrayAt(kind, arena, offset, length);
      default: return this.#posted(fn, kind);
    }
  }

  /** A result the worker posted on the side channel. */
  #posted(fn: RingFunction, kind: number): unknown {
    const posted = this.side?.receive() as { value: unknown } | undefined;
    if (posted === undefined) throw new Error(`the result of ${fn.name} never arrived`);
    const { value } = posted;
    if (kind === KIND_AS_IS) {
      if (typeof value === 'string') this.#grow(fn, Buffer.byteLength(value));
      return value;
    }
    const bytes = value as Uint8Array;
    this.#grow(fn, bytes.byteLength);
    return arrayOf(kind, bytes);
  }

  /** Next time, room for a result as long as this one. */
  #grow(fn: RingFunction, bytes: number): void {
    fn.reserve = Math.min(MAX_RESULT_RESERVE, Math.max(fn.reserve, align8(bytes)));
  }
}

/** No lone surrogate in `text` (String#isWellFormed: Node 20 has it, ES2022 types do not). */
export function wellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** A BigInt from its hexadecimal text (`-` first when negative). */
export function bigintOf(hex: string): bigint {
  return hex.startsWith('-') ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
}

/** Arrays up to this long are copied and compared by a loop: a native call (Buffer#copy,
 *  Buffer.compare, a subarray) costs more than the loop for a few bytes. */
const SHORT = 64;
const BYTE_KINDS = new Set([KIND_OF.get(Uint8Array), KIND_OF.get(Buffer)]);

/** The bytes of `view`: itself when it is one, else a byte view over its memory. */
export function bytesOf(view: TypedArray | Buffer): Uint8Array {
  return BYTE_KINDS.has(KIND_OF.get(view.constructor)) ? view as Uint8Array : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** `bytes` into `to` at `at`. */
export function copyBytes(bytes: Uint8Array, to: Uint8Array, at: number): void {
  const length = bytes.byteLength;
  if (length > SHORT) {
    to.set(bytes, at);
    return;
  }
  for (let i = 0; i < length; i++) to[at + i] = bytes[i]!;
}

/** Whether `bytes` are the `bytes.byteLength` bytes of `arena` from `at`. */
export function sameBytes(bytes: Uint8Array, arena: Buffer, at: number): boolean {
  const length = bytes.byteLength;
  if (length > SHORT) return Buffer.compare(bytes, arena.subarray(at, at + length)) === 0;
  for (let i = 0; i < length; i++) if (bytes[i] !== arena[at + i]) return false;
  return true;
}

/** A new array of kind `kind` holding a copy of the `length` bytes of `arena` from `at`. */
export function arrayAt(kind: number, arena: Buffer, at: number, length: number): TypedArray | Buffer {
  if (length > SHORT) return arrayOf(kind, arena.subarray(at, at + length));
  const type: ArrayClass = KINDS[kind] ?? Uint8Array;
  let array: TypedArray | Buffer;
  if (type === Buffer) array = Buffer.allocUnsafe(length);
  else {
    const typed = type as (typeof ELEMENT_KINDS)[number];
    array = new typed(Math.floor(length / typed.BYTES_PER_ELEMENT));
  }
  const bytes = bytesOf(array);
  const end = bytes.byteLength; // read once: a Buffer's byteLength is not inlined in the loop
  for (let i = 0; i < end; i++) bytes[i] = arena[at + i]!;
  return array;
}

/** A new array of kind `kind` holding a copy of `bytes`. */
export function arrayOf(kind: number, bytes: Uint8Array): TypedArray | Buffer {
  const type: ArrayClass = KINDS[kind] ?? Uint8Array;
  if (type === Buffer) {
    const copy = Buffer.allocUnsafe(bytes.byteLength);
    copy.set(bytes);
    return copy;
  }
  const typed = type as (typeof ELEMENT_KINDS)[number];
  const array = new typed(Math.floor(bytes.byteLength / typed.BYTES_PER_ELEMENT));
  new Uint8Array(array.buffer).set(bytes.subarray(0, array.byteLength));
  return array;
}
