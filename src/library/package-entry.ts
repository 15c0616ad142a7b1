import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { IsoswapError } from '../errors.js';
import { assertCompleteLibrary } from './library-check.js';

/** How deep and how wide the package folder is searched for its `.node` files. */
const MAX_DEPTH = 8;
const MAX_ENTRIES = 20_000;
const MAX_DEPENDENCIES = 100;

/** A package to host: its entry module and the `.node` file that stands for its build. */
export interface PackageEntry {
  /** The file `require(module)` loads, absolute. */
  entry: string;
  /** The package's folder (where its package.json is). */
  root: string;
  /** The `.node` file watched and copied by the host for each version (see {@link packageEntry}). */
  addon: string;
  /** Every `.node` file of the package this machine can load. */
  addons: string[];
}

/**
 * Resolves `module` (a package folder or an entry file, relative to the cwd) as `require`
 * would, and finds the `.node` files this machine could dlopen in the package's folder
 * (nested node_modules included) and in the folders of its installed dependencies. The one the host watches and copies itself is
 * the one under build/Release, else the first by path, musl builds last; the others the
 * package loads are copied by the version itself when it loads them. Throws
 * ERR_INVALID_OPTIONS (option `module`) when it resolves to nothing or holds no `.node`.
 */
export function packageEntry(module: string): PackageEntry {
  let entry: string;
  try {
    entry = createRequire(join(process.cwd(), 'index.js')).resolve(resolve(module));
  } catch (err) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', `invalid options: \`module\` ${module} resolves to no module: ${(err as Error).message}`, { option: 'module' });
  }
  const root = packageRoot(entry);
  const addons = [root, ...dependencyRoots(root)].flatMap(nodeFiles).filter((file) => {
    try {
      assertCompleteLibrary(readFileSync(file), file);
      return true;
    } catch {
      return false; // another platform's prebuild, or not a library
    }
  });
  const rank = (file: string): number => (file.includes(`${sep}build${sep}Release${sep}`) ? 0 : 1) + (/musl/i.test(file) ? 2 : 0);
  addons.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  if (addons.length === 0) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', `invalid options: \`module\` ${module}: no .node file this machine can load was found in ${root}`,
      { option: 'module', root });
  }
  return { entry, root, addon: addons[0]!, addons };
}

/** Where the package's dependencies are installed: napi-rs packages ship their `.node` in
 *  an optional dependency per platform (`@node-rs/xxhash-linux-x64-gnu`), sharp its libvips
 *  binding in `@img/sharp-linux-x64`. Those not installed are left out. */
function dependencyRoots(root: string): string[] {
  let manifest: { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  try {
    manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as typeof manifest;
  } catch {
    return [];
  }
  const require = createRequire(join(root, 'package.json'));
  const names = [...new Set([...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.dependencies ?? {})])];
  // Looked up as folders along require's paths: a package's `exports` may hide its package.json.
  return names.slice(0, MAX_DEPENDENCIES).flatMap((name) => {
    const found = (require.resolve.paths(name) ?? []).map((dir) => join(dir, name)).find((dir) => existsSync(join(dir, 'package.json')));
    return found === undefined ? [] : [found]; // not installed (another platform's)
  });
}

/** The nearest folder above `entry` with a package.json (else the entry's own folder). */
function packageRoot(entry: string): string {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return dirname(entry);
  }
}

/** Every `*.node` regular file under `root`, bounded in depth and count. */
function nodeFiles(root: string): string[] {
  const found: string[] = [];
  let seen = 0;
  const walk = (dir: string, depth: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const item of entries) {
      if (++seen > MAX_ENTRIES) return;
      const path = join(dir, item.name);
      if (item.isDirectory() && depth < MAX_DEPTH && item.name !== '.git') walk(path, depth + 1);
      else if (item.name.endsWith('.node') && !item.name.startsWith('.') && isFile(path)) found.push(path);
    }
  };
  walk(root, 0);
  return found;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
