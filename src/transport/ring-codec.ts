/**
 * What a ring slot's words mean (src/transport/ring-layout.ts), for both ends: the host
 * writes a call's arguments and reads its result ({@link HostCodec}), the worker reads the
 * arguments and writes the result ({@link WorkerCodec}). One owner for the encoding.
 *
 * Argument word i, as the 4-bit tag i of META_TAGS says:
 *  - TAG_NUMBER: a float64 (numbers, bools as 0/1, 64-bit integers passed as numbers);
 *  - TAG_INT64 / TAG_UINT64: a BigInt, as a signed / unsigned 64-bit integer;
 *  - TAG_NULL: a null string or pointer;
 *  - TAG_STRING: int32 pair (arena offset, UTF-8 length); an argument is followed by a NUL;
 *  - TAG_COPY: int32 pair (arena offset, byte length) of a typed array copied into the
 *    arena, of the element kind in META_ELEMENTS (copied back after the call when the
 *    prototype marks it `_Out_`/`_Inout_`);
 *  - TAG_SHARED: int32 pair (byte offset, 0) of a view over the state block, which both
 *    ends map (in a child process at another address): the very memory, no copy;
 *  - TAG_ADDRESS: a float64, the address of a view over any other SharedArrayBuffer
 *    (thread isolation: one address space). The worker passes koffi the address and
 *    never holds the buffer: a buffer a worker isolate held stayed until that isolate's
 *    next garbage collection, which an idle worker seldom has (a fresh 1 MiB buffer per
 *    call kept them all). The host keeps the arguments until the call is answered.
 * The result word uses the same tags (the result's tag in META_ELEMENTS); a string result
 * is written into the room the host reserved for it (its offset and size are in the
 * result word when the call is written), and one that does not fit there is posted on the
 * side channel (TAG_SPILLED).
 */
import koffi from 'koffi';
import type { FastArgKind, FastResultKind, FastSignature } from '../wire/protocol.js';
import {
  MAX_ARGS, MAX_CALL_BYTES, META_ELEMENTS, META_TAGS, SLOT_META, SLOT_VALUES, type ChannelViews,
} from './ring-layout.js';
import { writeBack } from './copy-back.js';

export const TAG_NUMBER = 0;
export const TAG_INT64 = 1;
export const TAG_UINT64 = 2;
export const TAG_NULL = 3;
export const TAG_STRING = 4;
export const TAG_COPY = 5;
export const TAG_SHARED = 6;
export const TAG_SPILLED = 7;
export const TAG_ADDRESS = 8;

/** The typed arrays a pointer argument may be, by element kind (a Buffer is kind 0). */
export const ELEMENT_KINDS = [
  Uint8Array, Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;
export type TypedArray = InstanceType<(typeof ELEMENT_KINDS)[number]>;
type TypedArrayClass = (typeof ELEMENT_KINDS)[number];
const KIND_OF = new Map<unknown, number>(ELEMENT_KINDS.map((c, i) => [c, i]));
KIND_OF.set(Buffer, 0);

/** Where each SharedArrayBuffer's memory starts (it never moves); weak: not kept alive. */
const ADDRESSES = new WeakMap<SharedArrayBuffer, number>();

function addressOf(view: ArrayBufferView): number {
  const buffer = view.buffer as SharedArrayBuffer;
  let base = ADDRESSES.get(buffer);
  if (base === undefined) {
    base = Number(koffi.address(new Uint8Array(buffer)));
    ADDRESSES.set(buffer, base);
  }
  return base + view.byteOffset;
}

export const INT64_MIN = -(2n ** 63n);
export const UINT64_LIMIT = 2n ** 64n;
export const SIGNED_LIMIT = 2n ** 63n;
/** Room reserved for a string result at first; it grows to the longest result seen. */
export const FIRST_RESULT_RESERVE = 64;
export const MAX_RESULT_RESERVE = 4096;

/** Carries what the ring cannot: a string result longer than its reserve (worker to
 *  host); `receive` takes the one the slot being read spilled (thread isolation: a
 *  MessagePort and receiveMessageOnPort, posted before the slot is published; process
 *  isolation: a blocking pipe, written right after). */
export interface RingSideChannel {
  post(message: unknown): void;
  /** The next message, or undefined when there is none. */
  receive(): unknown;
  /** False when the worker is another process, which cannot reach a SharedArrayBuffer of
   *  this one: views over one (but the state block) are copied into the arena then. */
  readonly shares?: boolean;
}

/** What the host keeps per function on the ring. */
export interface RingFunction {
  name: string;
  index: number;
  signature: FastSignature;
  /** Every argument a number: no tags, no arena. */
  plain: boolean;
  /** Some argument is an `_Out_`/`_Inout_` pointer: its copy comes back after the call. */
  copiesBack: boolean;
  /** Some argument is a pointer: the host keeps the arguments until the call is answered
   *  (the worker may hold the address of their memory). */
  pointers: boolean;
  /** Bytes reserved for a string result (a tagged function's: for any result). */
  reserve: number;
  /** An addon's export: tagged values (ring-values.ts), any count up to MAX_ARGS. */
  tagged: boolean;
}

/**
 * A host-side description of a function the worker serves on the ring.
 */
export function ringFunction(name: string, index: number, signature: FastSignature): RingFunction {
  const tagged = signature.tagged === true;
  return {
    name, index, signature, tagged,
    plain: !tagged && signature.args.every((k) => k === 'number'),
    copiesBack: signature.args.includes('pointer-out'),
    // a tagged call's arguments are kept too: the addon may write into a buffer it was passed
    pointers: tagged || signature.args.some((kind) => kind === 'pointer' || kind === 'pointer-out'),
    reserve: tagged || signature.result === 'string' ? FIRST_RESULT_RESERVE : 0,
  };
}

export const align8 = (n: number): number => (n + 7) & ~7;

/** Longest string the ASCII loop of {@link writeUtf8} tries. */
const ASCII_LOOP_MAX = 64;

/**
 * `text` as UTF-8 into `arena` at `at`, at most `room` bytes; returns the bytes written.
 * A short ASCII string is copied by a loop: Buffer#write's native call cost ~130 ns for
 * 11 characters here, the loop ~35 ns, and a string call writes twice (argument, result).
 */
export function writeUtf8(arena: Buffer, text: string, at: number, room: number): number {
  const length = text.length;
  if (length <= ASCII_LOOP_MAX && length <= room) {
    let i = 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) break;
      arena[at + i] = code;
    }
    if (i === length) return length;
  }
  return arena.write(text, at, room, 'utf8');
}

/** The host end: measures, writes arguments, reads results. */
export class HostCodec {
  /** The state block, which the worker knows as shared buffer 0. */
  readonly #state: ArrayBufferLike | undefined;

  /**
   * @param side where long string results come from; undefined or not sharing: views over
   *  SharedArrayBuffers other than `state` are copied (process isolation)
   */
  constructor(private readonly views: ChannelViews, state: ArrayBufferLike | undefined, private readonly side?: RingSideChannel) {
    this.#state = state;
  }

  /** Arena bytes the call needs, or -1 when it cannot go on the ring (the caller takes the
   *  message path, whose koffi gives the same result or error). */
  measure(fn: RingFunction, args: unknown[]): number {
    const kinds = fn.signature.args;
    if (args.length !== kinds.length) return -1;
    let bytes = fn.reserve;
    for (let i = 0; i < kinds.length; i++) {
      const arg = args[i];
      switch (kinds[i]) {
        case 'number': if (typeof arg !== 'number') return -1; break;
        case 'bool': if (typeof arg !== 'boolean') return -1; break;
        case 'int64':
          if (typeof arg !== 'number' && !(typeof arg === 'bigint' && arg >= INT64_MIN && arg < UINT64_LIMIT)) return -1;
          break;
        case 'string':
          if (typeof arg === 'string') bytes += align8(arg.length * 3 + 1); // + NUL
          else if (arg !== null) return -1;
          break;
        default: { // pointers
          if (arg === null) break;
          if (!ArrayBuffer.isView(arg) || !KIND_OF.has(arg.constructor)) return -1;
          if (!this.#sharable(arg.buffer)) bytes += align8(arg.byteLength);
        }
      }
    }
    return bytes > MAX_CALL_BYTES ? -1 : bytes;
  }

  /** Writes a call measured by {@link measure} into `slot`, its arena bytes from `at`;
   *  returns where its arena use ends. */
  write(slot: number, fn: RingFunction, args: unknown[], at: number): number {
    const { values, words, int64, uint64, arena, meta } = this.views;
    const base = slot * SLOT_VALUES;
    if (fn.plain) {
      for (let i = 0; i < args.length; i++) values[base + i] = args[i] as number;
      return at;
    }
    let tags = 0;
    let elements = 0;
    const kinds = fn.signature.args;
    for (let i = 0; i < kinds.length; i++) {
      const arg = args[i];
      const w = (base + i) * 2;
      let tag = TAG_NUMBER;
      if (typeof arg === 'number') values[base + i] = arg;
      else if (typeof arg === 'boolean') values[base + i] = arg ? 1 : 0;
      else if (typeof arg === 'bigint') {
        if (arg < SIGNED_LIMIT) { int64[base + i] = arg; tag = TAG_INT64; } else { uint64[base + i] = arg; tag = TAG_UINT64; }
      } else if (arg === null) tag = TAG_NULL;
      else if (typeof arg === 'string') {
        const length = writeUtf8(arena, arg, at, arg.length * 3);
        arena[at + length] = 0; // the worker hands koffi these bytes as the C string itself
        words[w] = at;
        words[w + 1] = length;
        at = align8(at + length + 1);
        tag = TAG_STRING;
      } else {
        const view = arg as TypedArray;
        elements |= KIND_OF.get(view.constructor)! << (4 * i);
        if (view.buffer === this.#state) {
          words[w] = view.byteOffset;
          words[w + 1] = 0;
          tag = TAG_SHARED;
        } else if (this.#addressable(view.buffer)) {
          values[base + i] = addressOf(view);
          tag = TAG_ADDRESS;
        } else {
          arena.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), at);
          words[w] = at;
          words[w + 1] = view.byteLength;
          at += align8(view.byteLength);
          tag = TAG_COPY;
        }
      }
      tags |= tag << (4 * i);
    }
    if (fn.reserve > 0) {
      const w = (base + MAX_ARGS) * 2;
      words[w] = at;
      words[w + 1] = fn.reserve;
      at += fn.reserve;
    }
    meta[slot * SLOT_META + META_TAGS] = tags;
    meta[slot * SLOT_META + META_ELEMENTS] = elements;
    return at;
  }

  /** The result of the call answered in `slot`; copies `_Out_` buffers back into `args`
   *  (`lost` hears of each position whose view was detached or shrunk meanwhile). */
  read(slot: number, fn: RingFunction, args: unknown[] | undefined, lost?: (fn: RingFunction, position: number) => void): unknown {
    const { values, words, arena, meta } = this.views;
    const at = slot * SLOT_VALUES + MAX_ARGS;
    const kind: FastResultKind = fn.signature.result;
    if (fn.copiesBack && args !== undefined) this.#copyBack(slot, fn, args, lost);
    if (kind === 'number') return values[at];
    if (kind === 'bool') return values[at] !== 0;
    if (kind === 'void') return undefined;
    const tag = meta[slot * SLOT_META + META_ELEMENTS]!;
    switch (tag) {
      case TAG_NUMBER: return values[at];
      case TAG_INT64: return this.views.int64[at];
      case TAG_UINT64: return this.views.uint64[at];
      case TAG_NULL: return null;
      case TAG_STRING: return arena.toString('utf8', words[at * 2], words[at * 2]! + words[at * 2 + 1]!);
      default: {
        const value = this.side?.receive();
        if (typeof value !== 'string') throw new Error(`the long result of ${fn.name} never arrived`);
        // next time, room for a result as long as this one
        fn.reserve = Math.min(MAX_RESULT_RESERVE, Math.max(fn.reserve, align8(Buffer.byteLength(value))));
        return value;
      }
    }
  }

  #copyBack(slot: number, fn: RingFunction, args: unknown[], lost: ((fn: RingFunction, position: number) => void) | undefined): void {
    const { words, arena, meta } = this.views;
    const tags = meta[slot * SLOT_META + META_TAGS]!;
    const kinds = fn.signature.args;
    for (let i = 0; i < kinds.length; i++) {
      if (kinds[i] !== 'pointer-out' || ((tags >> (4 * i)) & 15) !== TAG_COPY) continue;
      const w = (slot * SLOT_VALUES + i) * 2;
      if (!writeBack(args[i] as ArrayBufferView, arena.subarray(words[w], words[w]! + words[w + 1]!))) lost?.(fn, i);
    }
  }

  #sharable(buffer: ArrayBufferLike): boolean {
    return buffer === this.#state || this.#addressable(buffer);
  }

  /** A SharedArrayBuffer the worker can reach by address: it runs in this process (the
   *  side channel shares), and the buffer has memory (an empty one has no address). */
  #addressable(buffer: ArrayBufferLike): boolean {
    return this.side !== undefined && this.side.shares !== false && buffer instanceof SharedArrayBuffer && buffer.byteLength > 0;
  }
}

/** The worker end: reads arguments, writes results. */
export class WorkerCodec {
  readonly #state: ArrayBufferLike | undefined;

  constructor(private readonly views: ChannelViews, state: ArrayBufferLike | undefined, private readonly side?: RingSideChannel) {
    this.#state = state;
  }

  /** The arguments of the call in `slot`, as koffi takes them. */
  args(slot: number, kinds: readonly FastArgKind[]): unknown[] {
    const { values, words, int64, uint64, arena, meta } = this.views;
    const base = slot * SLOT_VALUES;
    const tags = meta[slot * SLOT_META + META_TAGS]!;
    const elements = meta[slot * SLOT_META + META_ELEMENTS]!;
    const args = new Array<unknown>(kinds.length);
    for (let i = 0; i < kinds.length; i++) {
      const w = (base + i) * 2;
      switch ((tags >> (4 * i)) & 15) {
        case TAG_NUMBER: args[i] = kinds[i] === 'bool' ? values[base + i] !== 0 : values[base + i]; break;
        case TAG_INT64: args[i] = int64[base + i]; break;
        case TAG_UINT64: args[i] = uint64[base + i]; break;
        case TAG_NULL: args[i] = null; break;
        // The NUL-terminated bytes in the arena, by pointer: a JS string would be decoded
        // here, then encoded again by koffi into its per-thread heap (libc.ts cString)
        case TAG_STRING: args[i] = arena.subarray(words[w], words[w]! + words[w + 1]! + 1); break;
        case TAG_COPY: args[i] = view(ELEMENT_KINDS[(elements >> (4 * i)) & 15]!, arena.buffer, arena.byteOffset + words[w]!, words[w + 1]!); break;
        case TAG_ADDRESS: args[i] = values[base + i]; break; // koffi takes a number for a pointer as its address
        default: {
          const buffer = this.#state;
          if (buffer === undefined) throw new Error('a view over the state block, but this version has none');
          args[i] = view(ELEMENT_KINDS[(elements >> (4 * i)) & 15]!, buffer, words[w]!, buffer.byteLength - words[w]!);
        }
      }
    }
    return args;
  }

  /** Writes the result of the call in `slot`. */
  result(slot: number, kind: FastResultKind, value: unknown): void {
    const { values, words, arena, meta } = this.views;
    const at = slot * SLOT_VALUES + MAX_ARGS;
    if (kind === 'number' || kind === 'bool' || kind === 'void') {
      values[at] = value === true ? 1 : value === false || value === undefined ? 0 : (value as number);
      return;
    }
    let tag = TAG_NUMBER;
    if (typeof value === 'number') values[at] = value;
    else if (typeof value === 'bigint') {
      if (value < SIGNED_LIMIT) { this.views.int64[at] = value; tag = TAG_INT64; } else { this.views.uint64[at] = value; tag = TAG_UINT64; }
    } else if (value === null || value === undefined) tag = TAG_NULL;
    else {
      const text = value as string;
      const offset = words[at * 2]!;
      const room = words[at * 2 + 1]!;
      if (text.length * 3 <= room || Buffer.byteLength(text) <= room) {
        words[at * 2 + 1] = writeUtf8(arena, text, offset, room);
        tag = TAG_STRING;
      } else {
        this.side!.post(text);
        tag = TAG_SPILLED;
      }
    }
    meta[slot * SLOT_META + META_ELEMENTS] = tag; // not META_TAGS: the host copies _Out_ buffers back by those
  }
}

/** A typed array of `kind` over `byteLength` bytes of `buffer` from `byteOffset`. */
function view(kind: TypedArrayClass, buffer: ArrayBufferLike, byteOffset: number, byteLength: number): TypedArray {
  return new kind(buffer as ArrayBuffer, byteOffset, Math.floor(byteLength / kind.BYTES_PER_ELEMENT));
}
