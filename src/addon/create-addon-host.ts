import { platform } from '../platform/platform.js';
import { AddonHost, type UntypedAddon } from './addon-host.js';
import { resolveAddonOptions, type AddonHostOptions } from './addon-options.js';

/**
 * Loads a Node-API addon in its own worker thread (or child process) and serves its
 * exports; with `watch`, every complete rebuild is swapped in without a restart. Rejects
 * with an IsoswapError when the first build cannot be loaded (ERR_ADDON_INIT: it did not
 * register, or its init threw).
 *
 * @example
 * const addon = await createAddonHost<typeof import('./index.js')>({ addon: './build/Release/x.node', watch: true });
 * await addon.exports.tick(5);
 * await addon.close();
 */
export async function createAddonHost<T extends object = UntypedAddon>(options: AddonHostOptions): Promise<AddonHost<T>> {
  platform(); // ERR_UNSUPPORTED_PLATFORM where isoswap has no platform layer (macOS)
  return AddonHost.open<T>(resolveAddonOptions(options));
}
