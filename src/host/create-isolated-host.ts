import { IsolatedHost } from './isolated-host.js';
import { findLibrary } from '../library/discovery.js';
import { platform } from '../platform/platform.js';
import { resolveOptions, type FunctionTable, type IsolatedHostOptions } from '../options.js';

/**
 * Loads the library in its own worker thread (or child process) and serves it.
 * Rejects with an IsoswapError when the first version cannot be loaded. `library` may be
 * a glob that matches exactly one file.
 *
 * @example
 * const host = await createIsolatedHost({
 *   library: './target/release/libgame.so',
 *   functions: { do_tick: 'int32_t do_tick(int32_t)' },
 * });
 * await host.fns.do_tick(1);
 * await host.close();
 */
export async function createIsolatedHost<const F extends FunctionTable>(options: IsolatedHostOptions<F>): Promise<IsolatedHost<F>> {
  platform(); // ERR_UNSUPPORTED_PLATFORM where isoswap has no platform layer (macOS)
  const opts = resolveOptions(options);
  opts.library = await findLibrary(opts.library); // a glob: the one file it matches, from now on
  return IsolatedHost.open(opts);
}
