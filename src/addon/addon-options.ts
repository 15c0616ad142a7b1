import { IsoswapError } from '../errors.js';
import { integer, MAX_TIMEOUT_MS, rejectUnknownOptions, resolveOptions, type IsolatedHostOptions, type ResolvedOptions } from '../options.js';
import { packageEntry } from '../library/package-entry.js';

/** How long handles may keep a retired version by default: long enough for a request or a
 *  job that holds an instance across a reload, short enough that a leaked handle does not
 *  keep a worker (or process) for the rest of the program. */
export const HANDLE_TIMEOUT_MS = 300_000;
/** How many retired versions handles may keep at once by default (as Erlang keeps two). */
export const KEEP_HANDLE_VERSIONS = 2;

/** Options of {@link createAddonHost}: the library host's, but for `library`,
 *  `functions` and `threads` (one worker or child per version). With `state`, the block is
 *  handed to the optional exports `isoswapLoad(state)` and `isoswapUnload(state)` as a
 *  Uint8Array. Exactly one of `addon` and `module`. */
export interface AddonHostOptions extends Pick<IsolatedHostOptions,
  'watch' | 'isolation' | 'state' | 'callTimeoutMs' | 'loadTimeoutMs' | 'drainTimeoutMs' | 'hookTimeoutMs' | 'keepBuilds' | 'tempDir' | 'crashPolicy' | 'onPinned'> {
  /** The Node-API addon to serve (a `.node` file; relative paths are taken from the cwd). */
  addon?: string;
  /** A package (its folder, e.g. './node_modules/pkg', or its entry file) whose own
   *  JavaScript entry runs inside each version, its `.node` files loaded from that
   *  version's private copies: `exports` is the package's `module.exports` (docs/addons.md). */
  module?: string;
  /** The flags of the addon's `process.dlopen` (`os.constants.dlopen`, e.g.
   *  `RTLD_NOW | RTLD_GLOBAL` for an addon whose plugins need its symbols). */
  dlopenFlags?: number;
  /** How long live handles (`await new addon.exports.Counter()`) may keep a retired version
   *  serving them; past it they end (ERR_VERSION_RETIRED) and it is torn down. 0: no
   *  limit. Default 300000 (5 minutes). */
  handleTimeoutMs?: number;
  /** How many retired versions live handles may keep at once; a swap that would keep more
   *  ends the oldest one's handles. 1 to 100, default 2. */
  keepHandleVersions?: number;
}

/** Every option name createAddonHost accepts (the unknown-name check reads it). */
export const ADDON_OPTION_NAMES = [
  'addon', 'module', 'dlopenFlags', 'watch', 'isolation', 'state', 'callTimeoutMs', 'loadTimeoutMs', 'drainTimeoutMs', 'hookTimeoutMs',
  'keepBuilds', 'tempDir', 'crashPolicy', 'onPinned', 'handleTimeoutMs', 'keepHandleVersions',
] as const;
type Unlisted = Exclude<keyof AddonHostOptions, (typeof ADDON_OPTION_NAMES)[number]>;
const everyOptionListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyOptionListed;

/** Options of createIsolatedHost that mean nothing for an addon, and why. */
const MISPLACED: Record<string, string> = {
  library: 'the addon is `addon` (a .node file) or `module` (a package)',
  functions: 'an addon\'s functions are its exports, found when it loads',
  threads: 'Node registers an addon once per thread: one worker (or child) per version',
  libraryPath: 'an addon\'s dependencies are found through its own RPATH/RUNPATH ($ORIGIN, taken from the original\'s folder) or LD_LIBRARY_PATH',
  header: 'an addon is typed by its module type: createAddonHost<typeof import(\'./index.js\')>',
  allowSignatureChange: 'an addon has no header',
  fleet: 'fleets serve libraries (createIsolatedHost)',
};

/**
 * The library host's options for an addon: one worker (or child) per version, no
 * function table (the addon's exports are found when it loads). Throws ERR_INVALID_OPTIONS
 * naming the option (`details.option`), for an unknown name and for a library host's
 * option that has no meaning here (`threads`, `library`, `functions`, `libraryPath`...).
 *
 * @example
 * const opts = resolveAddonOptions({ addon: './build/Release/x.node', watch: true });
 */
export function resolveAddonOptions(options: AddonHostOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: expected an object', { option: 'options' });
  }
  for (const name of Object.keys(options)) {
    const why = MISPLACED[name];
    if (why !== undefined) {
      throw new IsoswapError('ERR_INVALID_OPTIONS', `invalid options: \`${name}\` is an option of createIsolatedHost, not of createAddonHost: ${why}`,
        { option: name, allowed: [...ADDON_OPTION_NAMES] });
    }
  }
  rejectUnknownOptions(options, ADDON_OPTION_NAMES, '');
  const { addon, module, dlopenFlags, handleTimeoutMs, keepHandleVersions, ...rest } = options;
  if ((addon === undefined) === (module === undefined)) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: give exactly one of `addon` (a .node file) and `module` (a package)',
      { option: addon === undefined ? 'addon' : 'module', allowed: 'exactly one of addon and module' });
  }
  if (addon !== undefined && (typeof addon !== 'string' || addon === '')) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `addon` must be the path of a .node file', { option: 'addon' });
  }
  if (module !== undefined && (typeof module !== 'string' || module === '')) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `module` must be the path of a package (its folder or entry file)', { option: 'module' });
  }
  if (dlopenFlags !== undefined && (!Number.isSafeInteger(dlopenFlags) || dlopenFlags < 0)) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', `invalid options: \`dlopenFlags\` must be a non-negative integer (os.constants.dlopen), got ${String(dlopenFlags)}`,
      { option: 'dlopenFlags', allowed: 'os.constants.dlopen flags' });
  }
  // A package is served through the .node its entry loads: that file is the build watched.
  const entry = module === undefined ? undefined : packageEntry(module);
  const library = entry === undefined ? addon! : entry.addon;
  const handles = {
    timeoutMs: integer(handleTimeoutMs, 'handleTimeoutMs', HANDLE_TIMEOUT_MS, 0, MAX_TIMEOUT_MS),
    keepVersions: integer(keepHandleVersions, 'keepHandleVersions', KEEP_HANDLE_VERSIONS, 1, 100),
  };
  // Node registers an addon once per thread: one thread (or process) per version.
  return { ...resolveOptions({ ...rest, library, functions: {}, threads: 1 }), addon: true, dlopenFlags, module: entry?.entry, handles };
}
