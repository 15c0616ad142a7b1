import { readdirSync, readFileSync } from 'node:fs';
import { libcFunctions, setThreadName } from './libc.js';

const RTLD_NOW = 2;

/**
 * Names the calling thread (at most 15 bytes: the kernel truncates). Threads it starts
 * from now on inherit the name, which is how the host later finds the threads a
 * library started: counting /proc/self/task would misattribute, as workers and standbys
 * start beside loads.
 *
 * @example
 * nameThisThread('isw-v3'); // in the worker, before dlopen
 */
export function nameThisThread(name: string): void {
  if (process.platform !== 'linux') return;
  setThreadName(name);
}

/**
 * The ids of this process's threads named `name`, leaving out `workers` (the version's
 * own worker threads, which carry the name too). Linux only; elsewhere none.
 *
 * @example
 * const running = guestThreads('isw-v3', report.tids ?? []);
 */
export function guestThreads(name: string, workers: readonly number[]): number[] {
  if (process.platform !== 'linux') return [];
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/task');
  } catch {
    return found; // no fd left (EMFILE): nothing can be looked at; the version is unloaded as usual
  }
  for (const entry of entries) {
    const tid = Number(entry);
    if (workers.includes(tid)) continue;
    try {
      if (readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trimEnd() === name) found.push(tid);
    } catch {
      // the thread ended while being read
    }
  }
  return found;
}

/**
 * Keeps the copy at `path` mapped until the process exits: the host dlopens it too and
 * never closes it, so the worker's dlclose (and the loader sweep) no longer unmap code a
 * thread still runs. A raw dlopen, not koffi.load: koffi closes its handles when the
 * process exits, while such a thread may still run. The copy is already loaded: this
 * only counts a reference, no constructor runs again.
 *
 * @example
 * if (guestThreads(name, tids).length > 0) keepMapped(artifact.copy);
 */
export function keepMapped(path: string): void {
  libcFunctions().dlopen(path, RTLD_NOW); // null when already gone (the threads ended meanwhile): nothing to keep
}
