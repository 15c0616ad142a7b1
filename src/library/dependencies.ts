import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IsoswapError } from '../errors.js';
import { readDynamic, type ElfDynamic } from './elf-dynamic.js';
import { MAX_LIBRARY_BYTES } from './read-library.js';

// Where glibc looks last (after /etc/ld.so.cache), for the architectures Node runs on.
const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' };
const SYSTEM_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib',
  ...(MULTIARCH[process.arch] === undefined ? [] : [`/lib/${MULTIARCH[process.arch]}`, `/usr/lib/${MULTIARCH[process.arch]}`])];
const RUST_TARGET: Record<string, string> = { x64: 'x86_64-unknown-linux-gnu', arm64: 'aarch64-unknown-linux-gnu' };

const dynamicCache = new Map<string, { stamp: string; dynamic: ElfDynamic }>();

/** The dynamic section of the library at `path`; null if it is no regular file. */
function dynamicOf(path: string): ElfDynamic | null {
  try {
    const s = statSync(path);
    if (!s.isFile() || s.size > MAX_LIBRARY_BYTES) return null;
    const stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    const cached = dynamicCache.get(path);
    if (cached?.stamp === stamp) return cached.dynamic;
    const dynamic = readDynamic(readFileSync(path));
    dynamicCache.set(path, { stamp, dynamic });
    return dynamic;
  } catch {
    return null;
  }
}

/**
 * The libraries to load before the copy, dependencies first: each library the build needs
 * (directly or through another one found here) that is found in `dirs`. Loaded by path
 * beforehand, a library with a SONAME satisfies a DT_NEEDED of that name: the loader
 * matches names against what is loaded before it searches.
 */
export function planPreloads(bytes: Buffer, dirs: readonly string[]): string[] {
  if (dirs.length === 0) return [];
  const planned: string[] = [];
  const seen = new Set<string>();
  const visit = (needed: string[]): void => {
    for (const name of needed) {
      if (name.includes('/') || seen.has(name)) continue;
      seen.add(name);
      const path = dirs.map((dir) => join(dir, name)).find((candidate) => dynamicOf(candidate) !== null);
      if (path === undefined) continue;
      visit(dynamicOf(path)!.needed);
      planned.push(path);
    }
  };
  visit(readDynamic(bytes).needed);
  return planned;
}

/** What the host needs to explain a dependency that did not load. */
export interface MissingContext {
  /** The path the user named, and the copy that was loaded. */
  library: string;
  copy: string;
  libraryPath: readonly string[];
  /** Process isolation puts libraryPath in the child's LD_LIBRARY_PATH; threads cannot. */
  isolation: 'thread' | 'process';
}

/**
 * A load error as the user should see it: the worker's bare ERR_DEPENDENCY_MISSING (it
 * names only the dependency dlopen missed) explained by {@link dependencyMissing} while
 * the copy is still there to read; any other error as it is.
 */
export function explainMissing(err: unknown, ctx: MissingContext): unknown {
  if (!(err instanceof IsoswapError) || err.code !== 'ERR_DEPENDENCY_MISSING' || typeof err.details.dependency !== 'string'
    || err.details.neededBy !== undefined) return err;
  return dependencyMissing(err.details.dependency, ctx, err);
}

/**
 * ERR_DEPENDENCY_MISSING for `dependency`: which library needs it, the places searched
 * for it, and how to point isoswap at it.
 */
export function dependencyMissing(dependency: string, ctx: MissingContext, cause?: unknown): IsoswapError {
  const needer = findNeeder(dependency, ctx) ?? { path: ctx.copy, dynamic: dynamicOf(ctx.copy) };
  const name = needer.path === ctx.copy ? ctx.library : needer.path;
  const searched = searchDirs(needer.path, needer.dynamic, ctx);
  const hints = [`add the directory that holds it with --lib-path <dir> (option libraryPath)`];
  if (/^libstd-[0-9a-f]+\.so$/.test(dependency)) {
    hints.unshift(`it is Rust's standard library (a dylib built with -C prefer-dynamic): --lib-path "$(rustc --print sysroot)/lib/rustlib/${RUST_TARGET[process.arch] ?? '<target>'}/lib"`);
  }
  const inLibraryPath = ctx.libraryPath.map((d) => join(d, dependency)).find((p) => dynamicOf(p) !== null);
  if (inLibraryPath !== undefined && dynamicOf(inLibraryPath)?.soname === undefined && ctx.isolation === 'thread') {
    hints.unshift(`${inLibraryPath} is in libraryPath but has no SONAME, so a running process cannot match it by name: link it with -Wl,-soname,${dependency} or use isolation: 'process'`);
  }
  if (dirname(ctx.copy) !== dirname(ctx.library)) {
    hints.push(`the copy is in ${dirname(ctx.copy)} (the library's directory took no file), where $ORIGIN points`);
  }
  return new IsoswapError('ERR_DEPENDENCY_MISSING',
    `${dependency}, needed by ${name}, was not found; searched: ${searched.join(', ')}. Hint: ${hints.join('; ')}`,
    { file: ctx.library, dependency, neededBy: name, searched }, { cause });
}

/** The library in the copy's dependency tree whose DT_NEEDED names `dependency`. */
function findNeeder(dependency: string, ctx: MissingContext): { path: string; dynamic: ElfDynamic } | null {
  const seen = new Set<string>();
  const queue = [ctx.copy];
  while (queue.length > 0 && seen.size < 200) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const dynamic = dynamicOf(path);
    if (dynamic === null) continue;
    if (dynamic.needed.includes(dependency)) return { path, dynamic };
    for (const name of dynamic.needed) {
      const found = name.includes('/') ? name : searchDirs(path, dynamic, ctx).map((d) => join(d, name)).find((p) => dynamicOf(p) !== null);
      if (found !== undefined) queue.push(found);
    }
  }
  return null;
}

/** Where the loader looks for a library that `path` needs, in its order (ld.so(8)). */
function searchDirs(path: string, dynamic: ElfDynamic | null, ctx: MissingContext): string[] {
  const origin = (dir: string): string => dir.replace(/\$(\{ORIGIN\}|ORIGIN)/g, dirname(path));
  const fromEnv = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '');
  const rpath = dynamic === null || dynamic.runpath.length > 0 ? [] : dynamic.rpath.map(origin);
  const runpath = dynamic?.runpath.map(origin) ?? [];
  return [...new Set([...rpath, ...fromEnv, ...runpath, ...ctx.libraryPath, '/etc/ld.so.cache', ...SYSTEM_DIRS])];
}
