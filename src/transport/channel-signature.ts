import type { FastArgKind, FastResultKind, FastSignature } from '../runtime/protocol.js';
import { MAX_ARGS } from './ring-layout.js';

/** koffi primitives a float64 carries exactly, as arguments. 64-bit integers qualify as
 *  arguments only when the caller passes a number (a BigInt takes the message path). */
const NUMBER_ARGS = new Set(['Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float32', 'Float64']);
/** As results: not 64-bit integers, which koffi returns as a BigInt past 2^53. */
const NUMBER_RESULTS = new Set(['Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float32', 'Float64']);

interface KoffiTypeLike { primitive?: string }
/** koffi 3's `fn.info`: its d.ts says `arguments: TypeObject[]`, but at run time each is
 *  `{ type, direction }`; both shapes are accepted. */
export interface PrototypeInfoLike {
  result: KoffiTypeLike;
  arguments: ReadonlyArray<KoffiTypeLike & { type?: KoffiTypeLike; direction?: string }>;
}

/**
 * The channel signature of a declared function, or null when it needs the message path
 * (strings, structs, callbacks, output pointers, 64-bit results, more than MAX_ARGS).
 * Pointer arguments qualify when a state block exists: the caller passes a view over it.
 *
 * @example
 * fastSignature(lib.func('int32_t do_tick(int32_t)').info, false); // { args: ['number'], result: 'number' }
 */
export function fastSignature(info: PrototypeInfoLike, hasState: boolean): FastSignature | null {
  if (info.arguments.length > MAX_ARGS) return null;
  const args: FastArgKind[] = [];
  for (const arg of info.arguments) {
    const primitive = (arg.type ?? arg).primitive ?? '';
    const direction = arg.direction ?? 'Input';
    if (NUMBER_ARGS.has(primitive)) args.push('number');
    else if (primitive === 'Bool') args.push('bool');
    else if (primitive === 'Pointer' && direction === 'Input' && hasState) args.push('state-pointer');
    else return null;
  }
  const primitive = info.result.primitive ?? '';
  let result: FastResultKind;
  if (NUMBER_RESULTS.has(primitive)) result = 'number';
  else if (primitive === 'Bool') result = 'bool';
  else if (primitive === 'Void') result = 'void';
  else return null;
  return { args, result };
}
