import type { FastArgKind, FastResultKind, FastSignature } from '../wire/protocol.js';
import { MAX_ARGS } from './ring-layout.js';

/** koffi primitives a float64 carries exactly. */
const NUMBERS = new Set(['Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float32', 'Float64']);
/** 64-bit integers: koffi takes a number or a BigInt and returns a BigInt past 2^53. */
const INT64 = new Set(['Int64', 'UInt64']);

interface KoffiTypeLike { primitive?: string }
/** koffi 3's `fn.info`: its d.ts says `arguments: TypeObject[]`, but at run time each is
 *  `{ type, direction }`; both shapes are accepted. */
export interface PrototypeInfoLike {
  result: KoffiTypeLike;
  arguments: ReadonlyArray<KoffiTypeLike & { type?: KoffiTypeLike; direction?: string }>;
}

/**
 * The ring signature of a declared function, or null when it needs the message path
 * (structs, callbacks, UTF-16 strings, pointer results, more than MAX_ARGS arguments).
 * koffi parses `const char *` and `char *` alike (both `String`) and drops `const` from
 * pointers: only `_Out_`/`_Inout_` (its direction) marks a pointer whose writes come back.
 */
export function fastSignature(info: PrototypeInfoLike): FastSignature | null {
  if (info.arguments.length > MAX_ARGS) return null;
  const args: FastArgKind[] = [];
  for (const arg of info.arguments) {
    const primitive = (arg.type ?? arg).primitive ?? '';
    const direction = arg.direction ?? 'Input';
    if (NUMBERS.has(primitive)) args.push('number');
    else if (INT64.has(primitive)) args.push('int64');
    else if (primitive === 'Bool') args.push('bool');
    else if (primitive === 'String' && direction === 'Input') args.push('string');
    else if (primitive === 'Pointer') args.push(direction === 'Input' ? 'pointer' : 'pointer-out');
    else return null;
  }
  const primitive = info.result.primitive ?? '';
  let result: FastResultKind;
  if (NUMBERS.has(primitive)) result = 'number';
  else if (INT64.has(primitive)) result = 'int64';
  else if (primitive === 'Bool') result = 'bool';
  else if (primitive === 'String') result = 'string';
  else if (primitive === 'Void') result = 'void';
  else return null;
  return { args, result };
}

type NativeFunction = (...args: unknown[]) => unknown;

/**
 * What a worker serves on its ring, found when it loads a version: for each declared
 * function (in LoadReport.functions order) its entry or null, and the signatures to
 * report. Both workers (thread and process) call it.
 */
export function ringEntries(functions: readonly string[], fn: (name: string) => NativeFunction): {
  entries: Array<{ fn: NativeFunction; signature: FastSignature } | null>;
  fast: Record<string, FastSignature>;
} {
  const fast = Object.create(null) as Record<string, FastSignature>; // any name, `__proto__` too
  const entries = functions.map((name) => {
    const native = fn(name);
    const signature = fastSignature((native as unknown as { info: PrototypeInfoLike }).info);
    if (signature === null) return null;
    fast[name] = signature;
    return { fn: native, signature };
  });
  return { entries, fast };
}
