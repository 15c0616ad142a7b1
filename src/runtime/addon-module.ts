import { copyFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import koffi, { type LibraryHandle } from 'koffi';
import { IsoswapError } from '../errors.js';
import type { LoadRequest } from '../wire/protocol.js';

type Dlopen = (module: { exports: unknown }, filename: string, flags?: number) => void;

/** What loading a version's addon (or package) gave, and how to let go of it. */
export interface LoadedAddon {
  /** Its `module.exports`, whatever it is (an object, a function, a class). */
  exports: unknown;
  /** The `.node` files it loaded, as named (for a package: as its own code named them). */
  loaded: string[];
  /** Lets go of the dependencies loaded first (the addon's own mapping ends with its thread). */
  release: () => void;
}

let copies = 0;

/**
 * Obtains a version's `module.exports`, inside the worker thread or child process that
 * owns it (a fresh one per version, so a fresh require cache too):
 *
 * - an addon: `process.dlopen` of its private copy, with `request.dlopenFlags`;
 * - a package (`request.module`): its entry is `require`d, and every `.node` it loads (by
 *   `require`, `bindings`, `node-gyp-build` or `process.dlopen` itself: all go through
 *   `process.dlopen`, which is intercepted here for the life of the version) is loaded from
 *   a private copy: `request.library` from the host's copy, any other from a copy made here
 *   beside its original (so that `$ORIGIN` holds; the temp dir when that folder takes no
 *   file), removed from disk as soon as it is mapped.
 *
 * The dependencies the host found to preload (`request.preload`: those a copy in the temp
 * dir would miss through `$ORIGIN`) are loaded first. A dependency the loader cannot find
 * is ERR_DEPENDENCY_MISSING, which the host explains; other refusals are thrown as they
 * are (AddonService types them).
 */
export function loadAddon(request: LoadRequest): LoadedAddon {
  const preloaded: LibraryHandle[] = [];
  const release = (): void => {
    for (const handle of preloaded.splice(0).reverse()) handle.unload();
  };
  const loaded: string[] = [];
  const dlopen: Dlopen = process.dlopen.bind(process); // the original: the package's calls are redirected below
  const flags = (given: number | undefined): number => given ?? request.dlopenFlags ?? constants.dlopen.RTLD_LAZY;
  try {
    for (const dependency of request.preload ?? []) preloaded.push(koffi.load(dependency));
    if (request.module === undefined) {
      const module = { exports: {} as unknown };
      loaded.push(request.library);
      dlopen(module, request.copy, flags(undefined));
      return { exports: module.exports, loaded, release };
    }
    const watched = realPath(request.library);
    (process as { dlopen: Dlopen }).dlopen = (module, filename, given) => {
      const original = realPath(filename);
      loaded.push(filename);
      if (original === watched) return dlopen(module, request.copy, flags(given));
      const copy = privateCopy(original);
      try {
        return dlopen(module, copy, flags(given));
      } finally {
        rmSync(copy, { force: true }); // mapped now (or refused): the file is not needed
      }
    };
    return { exports: createRequire(request.module)(request.module) as unknown, loaded, release };
  } catch (err) {
    release();
    throw missingDependency(err, request) ?? err;
  }
}

/** A copy of `original` at a path of its own, beside it when its folder takes a file. */
function privateCopy(original: string): string {
  const name = `.isoswap-pkg-${process.pid}-${threadId}-${++copies}-${basename(original)}`;
  for (const dir of [dirname(original), tmpdir()]) {
    const copy = join(dir, name);
    try {
      copyFileSync(original, copy);
      return copy;
    } catch {
      // read-only folder: the next place
    }
  }
  return original; // nowhere to copy: the original itself (not reloaded by a later version)
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** "libx.so: cannot open shared object file" for a file other than the copy itself: worded
 *  as the library service's (library-service.ts), so that the host explains both alike. */
function missingDependency(err: unknown, request: LoadRequest): IsoswapError | null {
  if (!(err instanceof Error)) return null;
  const dependency = /([^\s:]+): cannot open shared object file/.exec(err.message)?.[1];
  if (dependency === undefined || dependency === request.copy || dependency.includes('.isoswap-')) return null;
  return new IsoswapError('ERR_DEPENDENCY_MISSING', `${dependency}, needed by ${request.library}, was not found (dlopen: ${err.message})`,
    { file: request.library, dependency });
}
