import { IsoswapError } from '../errors.js';
import { resolveOptions, type IsolatedHostOptions, type ResolvedOptions } from '../options.js';

/** Options of {@link createAddonHost}: the library host's, but for `library`,
 *  `functions` and `threads` (one worker or child per version). With `state`, the block is
 *  handed to the optional exports `isoswapLoad(state)` and `isoswapUnload(state)` as a
 *  Uint8Array. */
export interface AddonHostOptions extends Pick<IsolatedHostOptions,
  'watch' | 'isolation' | 'state' | 'callTimeoutMs' | 'loadTimeoutMs' | 'drainTimeoutMs' | 'keepBuilds' | 'tempDir' | 'crashPolicy'> {
  /** The Node-API addon to serve (a `.node` file; relative paths are taken from the cwd). */
  addon: string;
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
  const { addon, ...rest } = options;
  if (typeof addon !== 'string' || addon === '') throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `addon` must be the path of a .node file', { option: 'addon' });
  // Node registers an addon once per thread: one thread (or process) per version.
  return { ...resolveOptions({ ...rest, library: addon, functions: {}, threads: 1 }), addon: true };
}
