import koffi from 'koffi';
import { platform } from '../platform/platform.js';

// glibc defers unmapping a library whose thread-local destructors were pending (a Rust
// cdylib that used println! or thread_local!) until a *later* dlclose really unloads
// something. After a version's threads have exited, dlopen + dlclose of a library nothing
// else holds makes that happen. libutil.so.1 is an empty stub in glibc >= 2.34; an
// already-loaded library such as libdl.so.2 would not do.
const SWEEP_LIBRARY = 'libutil.so.1';
let sweepable: boolean | undefined;
// A library constructor runs under glibc's loader lock; while an abandoned load (past
// loadTimeoutMs) may still be inside one, a dlopen on the main thread would block the
// whole event loop until it returns, perhaps for ever. The sweep waits for a later turn.
let abandonedLoads = 0;

/**
 * Marks a load in a worker thread as abandoned until `settled` settles: no sweep runs
 * meanwhile.
 *
 * @example
 * abandonLoad(Promise.allSettled(loads));
 */
export function abandonLoad(settled: Promise<unknown>): void {
  abandonedLoads++;
  void settled.finally(() => { abandonedLoads--; });
}

/**
 * Lets the dynamic loader unmap the copies of versions whose threads have exited.
 *
 * @example
 * await version.shutdown(); sweepLoader(); // the copy is no longer in /proc/self/maps
 */
export function sweepLoader(): void {
  sweepable ??= platform().deferredUnmap;
  if (!sweepable || abandonedLoads > 0) return;
  try {
    koffi.load(SWEEP_LIBRARY).unload();
  } catch {
    sweepable = false; // no such stub on this system: copies are collected by the next real unload
  }
}
