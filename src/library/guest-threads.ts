import { platform } from '../platform/platform.js';

/**
 * Names the calling thread (at most 15 bytes on Linux: the kernel truncates). Threads it
 * starts from now on inherit the name, which is how the host later finds the threads a
 * library started: counting /proc/self/task would misattribute, as workers and standbys
 * start beside loads. Windows has no such inheritance: nothing is named there.
 *
 * @example
 * nameThisThread('isw-v3'); // in the worker, before dlopen
 */
export function nameThisThread(name: string): void {
  platform().nameThisThread(name);
}

/**
 * The ids of this process's threads named `name`, leaving out `workers` (the version's
 * own worker threads, which carry the name too). Where threads cannot be named, none.
 *
 * @example
 * const running = guestThreads('isw-v3', report.tids ?? []);
 */
export function guestThreads(name: string, workers: readonly number[]): number[] {
  return platform().namedThreads ? platform().guestThreads(name, workers) : [];
}

/**
 * Keeps the copy at `path` mapped until the process exits: the host loads it too and
 * never unloads it, so the worker's unload (and the loader sweep) no longer unmap code a
 * thread still runs. The copy is already loaded: this only counts a reference, no
 * constructor runs again.
 *
 * @example
 * if (guestThreads(name, tids).length > 0) keepMapped(artifact.copy);
 */
export function keepMapped(path: string): void {
  platform().keepMapped(path);
}
