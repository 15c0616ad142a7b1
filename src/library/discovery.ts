import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { glob, isDynamicPattern } from 'tinyglobby';
import { IsoswapError } from '../errors.js';
import { COPY_PREFIX } from './copy-place.js';

/** How many candidates an error lists. */
const LISTED = 10;

/**
 * Finds the library the `library` option names. A plain path is returned as it is (a
 * missing file is reported when it is read). A glob (`target/debug/*.so`) must match
 * exactly one file: build tools name artifacts their own way (`libhot_swap.so` for a
 * crate called hot-swap). It is resolved once, when the host starts; the host serves and
 * watches that file from then on.
 */
export async function findLibrary(given: string): Promise<string> {
  // A path that exists is that path, even with glob characters in it ("proj (copy)/lib.so").
  if (existsSync(given)) return given;
  // Globs take `/` only (a `\` escapes): a Windows path's separators are turned.
  const pattern = sep === '/' ? given : given.replaceAll(sep, '/');
  if (!isDynamicPattern(pattern)) return given;
  const { base, rest } = splitGlob(pattern);
  const matches = (await glob(rest, { cwd: base, absolute: true, onlyFiles: true, expandDirectories: false }))
    .filter((path) => !basename(path).startsWith(COPY_PREFIX))
    .map((path) => resolve(path))
    .sort();
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    const near = nearNames(base, basename(pattern), LISTED);
    throw new IsoswapError('ERR_LIBRARY_NOT_FOUND', `no file matches ${pattern}${near.length > 0 ? `; files in ${base}: ${near.join(', ')}` : ` (nothing in ${base})`}`,
      { file: pattern, candidates: near });
  }
  throw new IsoswapError('ERR_AMBIGUOUS_LIBRARY', `${matches.length} files match ${pattern}, name one: ${matches.slice(0, LISTED).join(', ')}${matches.length > LISTED ? ', ...' : ''}`,
    { file: pattern, candidates: matches });
}

/**
 * ERR_LIBRARY_NOT_FOUND for `file`, with the names in its directory nearest to its own
 * ("did you mean libhot_swap.so?").
 */
export function libraryNotFound(file: string, cause?: unknown): IsoswapError {
  const near = nearNames(dirname(file), basename(file), 3)
    .filter((name) => distance(name, basename(file)) <= Math.max(2, Math.floor(basename(file).length / 3)));
  const hint = near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : '';
  return new IsoswapError('ERR_LIBRARY_NOT_FOUND', `library not found: ${file}${hint}`, { file, candidates: near }, { cause });
}

/** Up to `count` file names in `dir`, nearest to `name` first (hidden copies left out). */
function nearNames(dir: string, name: string, count: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith(COPY_PREFIX));
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, d: distance(n, name) }))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, count)
    .map(({ n }) => n);
}

/** The directory before the first segment with a glob character, and the pattern after
 *  it (a pattern with `/` separators, as globs take them). */
function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split('/');
  const first = parts.findIndex((part) => isDynamicPattern(part));
  return { base: parts.slice(0, first).join('/') || '/', rest: parts.slice(first).join('/') };
}
