import { isMainThread } from 'node:worker_threads';
import { IsoswapError } from '../errors.js';
import { linux } from './linux.js';
import type { Platform } from './platform-api.js';
import { windows } from './windows.js';

export type { Platform } from './platform-api.js';

let chosen: Platform | null = null;

/**
 * The platform this process runs on; ERR_UNSUPPORTED_PLATFORM where isoswap has none
 * (macOS, until it is built: docs/platforms.md). Every entry point asks first.
 */
export function platform(): Platform {
  if (chosen === null) {
    chosen = platformOf(process.platform);
    chosen.prepareThread(isMainThread);
  }
  return chosen;
}

/**
 * The implementation for `system`; ERR_UNSUPPORTED_PLATFORM for a system without one.
 */
export function platformOf(system: NodeJS.Platform): Platform {
  if (system === 'linux') return linux;
  if (system === 'win32') return windows;
  throw new IsoswapError('ERR_UNSUPPORTED_PLATFORM', `isoswap runs on Linux and Windows; this is ${system} (see docs/platforms.md)`, { platform: system });
}
