import { MAX_ARGS, META_ELEMENTS, META_STATUS, META_TAGS, SLOT_META, SLOT_VALUES, TAGGED_BLOCKING, type ChannelViews } from './ring-layout.js';
import { INT64_MIN, SIGNED_LIMIT, UINT64_LIMIT, writeUtf8, type RingSideChannel, type TypedArray } from './ring-codec.js';
import {
  arrayAt, bigintOf, bytesOf, copyBytes, sameBytes, KIND_AS_IS, kindOf, VALUE_BIGINT, VALUE_BYTES, VALUE_FALSE, VALUE_INT64, VALUE_NULL, VALUE_NUMBER, VALUE_POSTED,
  VALUE_STRING, VALUE_TRUE, VALUE_UINT64, VALUE_UNDEFINED, wellFormed,
} from './ring-values.js';

/** The worker end of tagged values (ring-values.ts): reads arguments, writes results and the bytes written into arguments. */
export class WorkerValues {
  /**
   * @param side where a result that does not fit its slot goes; each post is `{ value }`
   */
  constructor(private readonly views: ChannelViews, private readonly side: Pick<RingSideChannel, 'post'>) {}

  /** Whether the host blocks for the call in `slot` (callSync); read before the answer. */
  blocking(slot: number): boolean {
    return (this.views.meta[slot * SLOT_META + META_STATUS]! & TAGGED_BLOCKING) !== 0;
  }

  /** The arguments of the call in `slot`: arrays as fresh copies. */
  args(slot: number): unknown[] {
    const { values, words, int64, uint64, arena, meta } = this.views;
    const base = slot * SLOT_VALUES;
    const m = slot * SLOT_META;
    const tags = meta[m + META_TAGS]!;
    const kinds = meta[m + META_ELEMENTS]!;
    const args = new Array<unknown>(meta[m + META_STATUS]! & 0xff);
    for (let i = 0; i < args.length; i++) {
      const w = (base + i) * 2;
      switch ((tags >> (4 * i)) & 15) {
        case VALUE_NUMBER: args[i] = values[base + i]; break;
        case VALUE_INT64: args[i] = int64[base + i]; break;
        case VALUE_UINT64: args[i] = uint64[base + i]; break;
        case VALUE_NULL: args[i] = null; break;
        case VALUE_UNDEFINED: args[i] = undefined; break;
        case VALUE_FALSE: args[i] = false; break;
        case VALUE_TRUE: args[i] = true; break;
        case VALUE_STRING: args[i] = arena.toString('utf8', words[w], words[w]! + words[w + 1]!); break;
        case VALUE_BIGINT: args[i] = bigintOf(arena.toString('latin1', words[w], words[w]! + words[w + 1]!)); break;
        default: args[i] = arrayAt((kinds >> (4 * i)) & 15, arena, words[w]!, words[w + 1]!);
      }
    }
    return args;
  }

  /**
   * Writes the result of the call in `slot`, after copying back the arrays of `args` the
   * addon changed. A value the slot cannot carry is posted as `wire` makes it (which may
   * throw: the caller answers with that error).
   */
  result(slot: number, value: unknown, args: unknown[], wire: (value: unknown) => unknown): void {
    const { values, words, int64, uint64, arena, meta } = this.views;
    const m = slot * SLOT_META;
    const at = slot * SLOT_VALUES + MAX_ARGS;
    let answer = VALUE_POSTED | (KIND_AS_IS << 4);
    switch (typeof value) {
      case 'number': values[at] = value; answer = VALUE_NUMBER; break;
      case 'boolean': answer = value ? VALUE_TRUE : VALUE_FALSE; break;
      case 'undefined': answer = VALUE_UNDEFINED; break;
      case 'bigint':
        if (value >= INT64_MIN && value < SIGNED_LIMIT) { int64[at] = value; answer = VALUE_INT64; break; }
        if (value >= 0n && value < UINT64_LIMIT) { uint64[at] = value; answer = VALUE_UINT64; break; }
        if (this.#text(value.toString(16), at)) answer = VALUE_BIGINT;
        else this.side.post({ value });
        break;
      case 'string':
        if (wellFormed(value) && this.#text(value, at)) answer = VALUE_STRING;
        else this.side.post({ value });
        break;
      default: {
        const kind = value === null ? -2 : typeof value === 'object' ? kindOf(value) : -1;
        if (kind === -2) { answer = VALUE_NULL; break; }
        if (kind < 0) { this.side.post({ value: wire(value) }); break; }
        const bytes = bytesOf(value as TypedArray);
        answer = kind << 4;
        if (bytes.byteLength <= words[at * 2 + 1]!) {
          copyBytes(bytes, arena, words[at * 2]!);
          words[at * 2 + 1] = bytes.byteLength;
          answer |= VALUE_BYTES;
        } else {
          this.side.post({ value: new Uint8Array(bytes) }); // a copy of its bytes, not the whole buffer under it
          answer |= VALUE_POSTED;
        }
      }
    }
    meta[m + META_ELEMENTS] = answer | (this.#writtenBack(slot, args) << 8);
  }

  /** Copies into the arena the arrays of `args` whose bytes differ from what the host sent;
   *  one bit per such argument. */
  #writtenBack(slot: number, args: unknown[]): number {
    const { words, arena, meta } = this.views;
    const tags = meta[slot * SLOT_META + META_TAGS]!;
    let written = 0;
    for (let i = 0; i < args.length; i++) {
      if (((tags >> (4 * i)) & 15) !== VALUE_BYTES) continue;
      const view = args[i] as TypedArray;
      const w = (slot * SLOT_VALUES + i) * 2;
      const at = words[w]!;
      const now = bytesOf(view);
      if (now.byteLength === words[w + 1] && sameBytes(now, arena, at)) continue;
      const length = Math.min(now.byteLength, words[w + 1]!); // a view cannot grow; it may be detached
      copyBytes(now.byteLength === length ? now : now.subarray(0, length), arena, at);
      words[w + 1] = length;
      written |= 1 << i;
    }
    return written;
  }

  /** `text` into the result's room; false when it does not fit. */
  #text(text: string, at: number): boolean {
    const { words, arena } = this.views;
    const room = words[at * 2 + 1]!;
    if (text.length * 3 > room && Buffer.byteLength(text) > room) return false;
    words[at * 2 + 1] = writeUtf8(arena, text, words[at * 2]!, room);
    return true;
  }
}

