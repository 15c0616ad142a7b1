import { IsoswapError } from '../errors.js';
import type { FunctionTable, HeaderRequest } from '../options.js';
import { readCDeclarations } from './c-header.js';
import type { DeclaredFunction } from './declared-function.js';
import { readHeader, unmappable } from './read-header.js';

/** The library's hooks: the host calls them at load and unload, so they are never
 *  declared as callable functions. */
const HOOKS = new Set(['isoswap_load', 'isoswap_unload']);


/**
 * Reads the header and returns the function table to serve: call name → the header's
 * koffi prototype. Rejects with ERR_HEADER for a declared function whose types cannot be
 * mapped, and ERR_SIGNATURE_CHANGED for a picked prototype the header contradicts.
 */
export async function headerFunctions(request: HeaderRequest): Promise<FunctionTable> {
  const { file, pick } = request;
  const declared = await readHeader(file, request.timeoutMs);
  const table: FunctionTable = {};
  if (Object.keys(pick).length === 0) {
    for (const fn of declared) if (!HOOKS.has(fn.name)) table[fn.name] = prototypeOf(fn, file);
    return table;
  }
  const byName = new Map(declared.map((fn) => [fn.name, fn]));
  for (const [call, wanted] of Object.entries(pick)) {
    const written = /^[A-Za-z_]\w*$/.test(wanted) ? null : await writtenPrototype(call, wanted);
    const name = written?.name ?? wanted;
    const fn = byName.get(name);
    if (fn === undefined || HOOKS.has(name)) {
      throw new IsoswapError('ERR_HEADER', `functions.${call} names ${name}, which ${file} does not export`, { file, function: name, call });
    }
    const prototype = prototypeOf(fn, file);
    if (written !== null && written.prototype !== prototype && !request.allowSignatureChange) {
      throw new IsoswapError('ERR_SIGNATURE_CHANGED',
        `functions.${call} declares '${written.prototype}' but ${file}:${fn.line} declares '${prototype}' (regenerate it with \`isoswap types\`, or pass allowSignatureChange)`,
        { file, line: fn.line, function: name, call, old: written.prototype, new: prototype });
    }
    table[call] = prototype;
  }
  return table;
}

function prototypeOf(fn: DeclaredFunction, file: string): string {
  if ('problem' in fn) throw unmappable(file, fn);
  return fn.prototype;
}

/** A prototype written in `functions`, in the header's spelling (parameter names dropped). */
async function writtenPrototype(call: string, prototype: string): Promise<{ name: string; prototype: string }> {
  const where = `functions.${call}`;
  const [fn, ...more] = await readCDeclarations(`${prototype.trim().replace(/;$/, '')};`, where);
  if (fn === undefined || more.length > 0 || 'problem' in fn) {
    const why = fn !== undefined && 'problem' in fn ? `: ${fn.problem}` : '';
    throw new IsoswapError('ERR_HEADER', `${where}: '${prototype}' is not one C prototype${why}; with \`header\`, give the function's name`, { call, prototype });
  }
  return fn;
}
