import { IsoswapError } from '../errors.js';
import { integer, MAX_TIMEOUT_MS, resolveOptions, type IsolatedHostOptions, type ResolvedOptions } from '../options.js';

/** How long handles may keep a retired version by default: long enough for a request or a
 *  job that holds an instance across a reload, short enough that a leaked handle does not
 *  keep a worker (or process) for the rest of the program. */
export const HANDLE_TIMEOUT_MS = 300_000;
/** How many retired versions handles may keep at once by default (as Erlang keeps two). */
export const KEEP_HANDLE_VERSIONS = 2;

/** Options of {@link createAddonHost}: the library host's, but for `library`,
 *  `functions` and `threads` (one worker or child per version). With `state`, the block is
 *  handed to the optional exports `isoswapLoad(state)` and `isoswapUnload(state)` as a
 *  Uint8Array. */
export interface AddonHostOptions extends Pick<IsolatedHostOptions,
  'watch' | 'isolation' | 'state' | 'callTimeoutMs' | 'loadTimeoutMs' | 'drainTimeoutMs' | 'keepBuilds' | 'tempDir' | 'crashPolicy'> {
  /** The Node-API addon to serve (a `.node` file; relative paths are taken from the cwd). */
  addon: string;
  /** How long live handles (`await new addon.exports.Counter()`) may keep a retired version
   *  serving them; past it they end (ERR_VERSION_RETIRED) and it is torn down. 0: no
   *  limit. Default 300000 (5 minutes). */
  handleTimeoutMs?: number;
  /** How many retired versions live handles may keep at once; a swap that would keep more
   *  ends the oldest one's handles. 1 to 100, default 2. */
  keepHandleVersions?: number;
}

/**
 * The library host's options for an addon: one worker (or child) per version, no
 * function table (the addon's exports are found when it loads). Throws ERR_INVALID_OPTIONS.
 *
 * @example
 * const opts = resolveAddonOptions({ addon: './build/Release/x.node', watch: true });
 */
export function resolveAddonOptions(options: AddonHostOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: expected an object', { option: 'options' });
  const { addon, handleTimeoutMs, keepHandleVersions, ...rest } = options;
  if (typeof addon !== 'string' || addon === '') throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `addon` must be the path of a .node file', { option: 'addon' });
  // Node registers an addon once per thread: one thread (or process) per version.
  const handles = {
    timeoutMs: integer(handleTimeoutMs, 'handleTimeoutMs', HANDLE_TIMEOUT_MS, 0, MAX_TIMEOUT_MS),
    keepVersions: integer(keepHandleVersions, 'keepHandleVersions', KEEP_HANDLE_VERSIONS, 1, 100),
  };
  return { ...resolveOptions({ ...rest, library: addon, functions: {}, threads: 1 }), addon: true, handles };
}
