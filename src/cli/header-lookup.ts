import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IsoswapError } from '../errors.js';
import { readHeader, unmappable } from '../header/read-header.js';
import { UsageError } from './usage.js';

/** With `--header`: the prototype the header gives a function name (throws UsageError). */
export type HeaderLookup = (name: string) => string;

/**
 * Reads the header `--header` names, if any, so that `--fn do_tick` can be checked and
 * called by name. A header that cannot be read is a UsageError (the command cannot run).
 */
export async function headerLookup(argv: string[]): Promise<HeaderLookup | undefined> {
  const { values } = parseArgs({ args: argv, allowPositionals: true, strict: false, options: { header: { type: 'string' } } });
  if (typeof values.header !== 'string') return undefined;
  const file = resolve(values.header);
  let declared;
  try {
    declared = new Map((await readHeader(file)).map((fn) => [fn.name, fn]));
  } catch (err) {
    throw new UsageError(`--header: ${IsoswapError.from(err, 'ERR_HEADER', `reading ${file}`).message}`);
  }
  return (name) => {
    const fn = declared.get(name);
    if (fn === undefined) throw new UsageError(`--fn ${name}: ${values.header} exports no function ${name}`);
    if ('problem' in fn) throw new UsageError(`--fn ${name}: ${unmappable(file, fn).message}`);
    return fn.prototype;
  };
}
