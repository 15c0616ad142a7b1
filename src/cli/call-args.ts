import koffi from 'koffi';
import { UsageError } from './usage.js';

/** What `--arg '{tick}'` stands for. */
export const TICK = Symbol('tick');
/** One argument as given: a value checked against its parameter, or the tick number. */
export type ArgTemplate = number | bigint | boolean | string | typeof TICK;

const INTEGERS: Record<string, { bits: bigint; signed: boolean }> = {
  Int8: { bits: 8n, signed: true }, UInt8: { bits: 8n, signed: false },
  Int16: { bits: 16n, signed: true }, UInt16: { bits: 16n, signed: false },
  Int32: { bits: 32n, signed: true }, UInt32: { bits: 32n, signed: false },
  Int64: { bits: 64n, signed: true }, UInt64: { bits: 64n, signed: false },
};

interface ParamInfo { type: { name: string; primitive: string } }
let unique = 0;

/**
 * Checks the command line's arguments of one `--fn` against its prototype, as koffi
 * parses it: as many as it has parameters, integers whole and in range, floats finite,
 * booleans true/false. "{tick}" stands for the tick number (a number parameter only).
 * The shared `--arg`s (`shared` true) are not given to a function without parameters.
 */
export function checkCallArgs(name: string, prototype: string, raw: string[], shared = false): ArgTemplate[] {
  const params = parameters(name, prototype);
  if (shared && params.length === 0) return [];
  if (raw.length !== params.length) {
    throw new UsageError(`${name} takes ${params.length} argument${params.length === 1 ? '' : 's'} (${prototype}), ${raw.length} given: use --arg or --fn "${prototype}=<args>"`);
  }
  return raw.map((text, i) => checkOne(`${name} argument ${i + 1} (${params[i]!.type.name})`, params[i]!.type.primitive, text));
}

/**
 * The values of one call: the tick number put in for {@link TICK}.
 */
export function callArgs(templates: ArgTemplate[], tick: number): unknown[] {
  return templates.map((a) => (a === TICK ? tick : a));
}

function parameters(name: string, prototype: string): ParamInfo[] {
  // koffi registers every prototype's name for good: parse it under a name of our own.
  const renamed = prototype.replace(new RegExp(`\\b${name}\\s*\\(`), `isoswap_cli_check_${++unique}(`);
  try {
    const info = koffi.type(koffi.proto(renamed)) as unknown as { proto: { arguments: ParamInfo[] } };
    return info.proto.arguments;
  } catch (err) {
    throw new UsageError(`--fn "${prototype}": ${(err as Error).message}`);
  }
}

function checkOne(what: string, primitive: string, text: string): ArgTemplate {
  const integer = INTEGERS[primitive];
  const isNumber = integer !== undefined || primitive === 'Float32' || primitive === 'Float64';
  if (text === '{tick}') {
    if (!isNumber) throw new UsageError(`${what}: {tick} is a number`);
    return TICK;
  }
  if (integer !== undefined) {
    let n: bigint;
    try { n = BigInt(text.trim()); } catch { throw new UsageError(`${what}: ${text} is not an integer`); }
    const min = integer.signed ? -(1n << (integer.bits - 1n)) : 0n;
    const max = (integer.signed ? 1n << (integer.bits - 1n) : 1n << integer.bits) - 1n;
    if (text.trim() === '' || n < min || n > max) throw new UsageError(`${what}: ${text} is out of range ${min}..${max}`);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (isNumber) {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${what}: ${text} is not a number`);
    return n;
  }
  if (primitive === 'Bool') {
    if (text !== 'true' && text !== 'false') throw new UsageError(`${what}: true or false, not ${text}`);
    return text === 'true';
  }
  if (primitive === 'String' || primitive === 'String16') return text;
  throw new UsageError(`${what}: this type cannot be given on the command line`);
}
