import { IsolatedHost } from './isolated-host.js';
import { resolveOptions, type FunctionTable, type IsolatedHostOptions } from '../options.js';

/**
 * Loads the library in its own worker thread (or child process) and serves it.
 * Rejects with an IsoswapError when the first version cannot be loaded.
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
  const opts = resolveOptions(options);
  const host = new IsolatedHost(opts);
  await host.start();
  return host;
}
