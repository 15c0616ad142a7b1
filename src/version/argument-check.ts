import { IsoswapError } from '../errors.js';
import type { LoadReport, ParamType } from '../wire/protocol.js';

/** Checks one call's arguments: null when they fit, else the ERR_BAD_ARGUMENTS to throw. */
export type ArgumentCheck = (args: readonly unknown[]) => IsoswapError | null;

/** One parameter's test: true when `value` fits. */
interface ParamTest {
  readonly type: string;
  /** What fits, for the message: "an integer from 0 to 255". */
  readonly expected: string;
  readonly fits: (value: unknown) => boolean;
}

/**
 * One checker per declared function, built once per version from the parameter types its
 * runtime reported at load. Every call (message path, shared-memory channel, callSync, both
 * isolations) passes it before anything is sent: koffi itself wraps integers silently
 * (`uint8_t` 300 → 44) and takes a number for a pointer as an address, which in thread
 * isolation is a segfault of the host.
 */
export function argumentChecks(report: LoadReport, library: string): Map<string, ArgumentCheck> {
  const checks = new Map<string, ArgumentCheck>();
  for (const name of report.functions) {
    // Own properties only: a declared name may be `constructor` or `__proto__`. A function
    // without parameter types is not a C prototype (a Node-API addon's export takes any
    // value that clones): nothing to check.
    if (!Object.hasOwn(report.params, name)) continue;
    const params = report.params[name]!;
    const variadic = !Object.hasOwn(report.arity, name);
    checks.set(name, checker(name, library, params.map(paramTest), variadic));
  }
  return checks;
}

function checker(fn: string, library: string, tests: ParamTest[], variadic: boolean): ArgumentCheck {
  const count = tests.length;
  const bad = (message: string, details: Record<string, unknown>): IsoswapError =>
    new IsoswapError('ERR_BAD_ARGUMENTS', `${fn} in ${library}: ${message}`, { function: fn, file: library, ...details });
  const fits = tests.map((t) => t.fits); // the hot loop reads one array
  return (args) => {
    if (variadic ? args.length < count : args.length !== count) {
      return bad(`takes ${variadic ? 'at least ' : ''}${count} argument(s), ${args.length} given`, { expected: count, given: args.length });
    }
    for (let i = 0; i < count; i++) {
      if (!fits[i]!(args[i])) {
        const test = tests[i]!;
        return bad(`argument ${i + 1} (${test.type}) must be ${test.expected}, not ${describe(args[i])}`,
          { position: i + 1, type: test.type, expected: test.expected });
      }
    }
    return variadic ? checkVariadic(args, count, bad) : null;
  };
}

/** koffi's variadic arguments come in pairs: a type name, then the value. A number passed
 *  as a pointer or string would be taken as an address. */
function checkVariadic(args: readonly unknown[], from: number, bad: (m: string, d: Record<string, unknown>) => IsoswapError): IsoswapError | null {
  if ((args.length - from) % 2 !== 0) return bad('variadic arguments come in pairs: a type name, then the value', { given: args.length });
  for (let i = from; i < args.length; i += 2) {
    const type = args[i];
    const value = args[i + 1];
    if (typeof type !== 'string') return bad(`argument ${i + 1} must name the type of argument ${i + 2}, not ${describe(type)}`, { position: i + 1 });
    const pointer = type.includes('*') || /^str(16|32)?$/.test(type.trim());
    const fits = pointer ? isPointerLike(value)
      : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean';
    if (!fits) return bad(`argument ${i + 2} (${type}) must be ${pointer ? POINTER : 'a number'}, not ${describe(value)}`, { position: i + 2, type });
  }
  return null;
}

const POINTER = 'a string, a Buffer or typed array, or null';

function paramTest(param: ParamType): ParamTest {
  const type = param.name;
  switch (param.kind) {
    case 'int': return integerTest(type, param.bits, param.signed);
    case 'float': return { type, expected: 'a number', fits: (v) => typeof v === 'number' };
    case 'bool': return { type, expected: 'true or false', fits: (v) => typeof v === 'boolean' };
    case 'string': return { type, expected: POINTER, fits: isPointerLike };
    case 'callback': return { type, expected: 'null (a function cannot cross to the version\'s thread or process)', fits: (v) => v === null };
    case 'record': return { type, expected: 'an object', fits: (v) => typeof v === 'object' && v !== null };
    case 'array': return { type, expected: 'an array or typed array', fits: (v) => Array.isArray(v) || ArrayBuffer.isView(v) };
    case 'pointer': {
      // koffi copies an object in and out for a struct pointer, and an array for an
      // output parameter; never a number (an address in this process).
      const objects = param.ref === 'record';
      const arrays = param.direction !== 'Input';
      const expected = `${POINTER}${objects ? ', or an object' : ''}${arrays ? ', or an array' : ''}`;
      return {
        type, expected,
        fits: (v) => isPointerLike(v) || (objects && typeof v === 'object' && v !== null) || (arrays && Array.isArray(v)),
      };
    }
  }
}

/** Strings, Buffers and typed arrays (a view of the state block included), and null; not
 *  a view whose buffer was detached (transferred): no path can read it. */
function isPointerLike(value: unknown): boolean {
  return value === null || typeof value === 'string' || (ArrayBuffer.isView(value) && !isDetached(value));
}

/** A detached buffer's views read as empty; only an empty one is looked at further. */
function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0 || view.buffer.byteLength !== 0 || view.buffer instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(view.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function integerTest(type: string, bits: number, signed: boolean): ParamTest {
  const wide = BigInt(bits);
  const min = signed ? -(1n << (wide - 1n)) : 0n;
  const max = signed ? (1n << (wide - 1n)) - 1n : (1n << wide) - 1n;
  if (bits === 64) {
    // A number past 2^53 has already lost its low bits: only safe integers, or a BigInt.
    const lowest = signed ? Number.MIN_SAFE_INTEGER : 0;
    return {
      type, expected: `an integer from ${min} to ${max} (a BigInt, or a number from ${lowest} to ${Number.MAX_SAFE_INTEGER})`,
      fits: (v) => typeof v === 'number' ? Number.isSafeInteger(v) && v >= lowest : typeof v === 'bigint' && v >= min && v <= max,
    };
  }
  const lo = Number(min);
  const hi = Number(max);
  return {
    type, expected: `an integer from ${lo} to ${hi}`,
    fits: (v) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi,
  };
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `a string`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}${isDetached(value) ? ' over a detached ArrayBuffer' : ''}`;
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
