import { platform } from '../platform/platform.js';

/**
 * Names the calling thread (at most 15 bytes on Linux: the kernel truncates). Threads it
 * starts from now on inherit the name, which is how the host later finds the threads a
 * library started: counting /proc/self/task would misattribute, as workers and standbys
 * start beside loads. Windows has no such inheritance: nothing is named there.
 */
export function nameThisThread(name: string): void {
  platform().nameThisThread(name);
}

/** The thread ids when each recent load of this process began (any host), by mark. */
const loadsBegun = new Map<number, number[]>();
/** Marks kept: a version retires long before this many loads followed it. */
const MARKS_KEPT = 256;
let lastMark = 0;

/**
 * Marks the start of a load (thread isolation): the process's thread ids now. A thread that
 * did not exist then but did when the next load began was started by this version's guest,
 * or by no version (see {@link guestThreads}).
 */
export function markLoad(): number {
  loadsBegun.set(++lastMark, platform().namedThreads ? platform().threadIds() : []);
  loadsBegun.delete(lastMark - MARKS_KEPT);
  return lastMark;
}

/**
 * The ids of this process's threads named `name`, leaving out `workers` (the version's
 * own worker threads, which carry the name too); with the version's `mark`
 * ({@link markLoad}), also the threads started between its load and the next load that
 * took a name of their own: tokio renames the threads it starts, so the name alone misses
 * them. A thread another host's guest started and renamed in that window is counted too:
 * a copy kept mapped for nothing costs memory, one unmapped under a running thread
 * crashes the process. Where threads cannot be named, none.
 */
export function guestThreads(name: string, workers: readonly number[], mark?: number): number[] {
  if (!platform().namedThreads) return [];
  const before = mark === undefined ? undefined : loadsBegun.get(mark);
  if (before === undefined) return platform().guestThreads(name, workers);
  const next = loadsBegun.get(mark! + 1);
  return platform().guestThreads(name, workers, (tid) => !before.includes(tid) && (next === undefined || next.includes(tid)));
}

/**
 * Keeps the copy at `path` mapped until the process exits: the host loads it too and
 * never unloads it, so the worker's unload (and the loader sweep) no longer unmap code a
 * thread still runs. The copy is already loaded: this only counts a reference, no
 * constructor runs again.
 */
export function keepMapped(path: string): void {
  platform().keepMapped(path);
}
