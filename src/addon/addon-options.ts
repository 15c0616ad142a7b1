import { IsoswapError } from '../errors.js';
import { resolveOptions, type Isolation, type ResolvedOptions } from '../options.js';

/** Options of {@link createAddonHost}. */
export interface AddonHostOptions {
  /** The Node-API addon to serve (a `.node` file; relative paths are taken from the cwd). */
  addon: string;
  /** Reload when `addon` changes on disk. Default false. */
  watch?: boolean;
  /** 'thread' (default): a worker thread per version; 'process': a child process, which
   *  a segfault in the addon ends instead of the program. */
  isolation?: Isolation;
  /** A block of memory that survives swaps, handed to the optional exports
   *  `isoswapLoad(state)` and `isoswapUnload(state)` as a Uint8Array. */
  state?: { bytes: number };
  /** 0: no limit; else a call that takes longer rejects with ERR_CALL_TIMEOUT. */
  callTimeoutMs?: number;
  /** How long loading a build (its init included) may take; 0: no limit. Default 30000. */
  loadTimeoutMs?: number;
  /** How long a retiring version may take to finish its calls in flight. Default 10000. */
  drainTimeoutMs?: number;
  /** How many earlier good builds keep their bytes for rollback(). Default 5. */
  keepBuilds?: number;
  /** Where the private copies directory is made. Default os.tmpdir(). */
  tempDir?: string;
}

/**
 * The library host's options for an addon: one worker (or child) per version, no
 * function table (the addon's exports are found when it loads). Throws ERR_INVALID_OPTIONS.
 *
 * @example
 * const opts = resolveAddonOptions({ addon: './build/Release/x.node', watch: true });
 */
export function resolveAddonOptions(options: AddonHostOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: expected an object');
  const { addon, ...rest } = options;
  if (typeof addon !== 'string' || addon === '') throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `addon` must be the path of a .node file');
  // Node registers an addon once per thread: one thread (or process) per version.
  return { ...resolveOptions({ ...rest, library: addon, functions: {}, threads: 1 }), addon: true };
}
