import { platform } from '../platform/platform.js';

/**
 * Throws ERR_NOT_A_LIBRARY unless `bytes` hold a whole shared library that this process
 * could load (ELF on Linux, PE on Windows: headers, this process's machine, every
 * segment or section inside the file). A library cut short kills the process that maps
 * it (SIGBUS), worker thread or not; the check runs before anything loads a build.
 */
export function assertCompleteLibrary(bytes: Uint8Array, file: string): void {
  platform().assertCompleteLibrary(bytes, file);
}
