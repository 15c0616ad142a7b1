/** A word nobody notifies: waiting on it only times out. One per thread (module state). */
const NAP = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks this thread for `ms` (Atomics.wait on a word that never changes): for the few
 * loops that must wait without an event loop, polling something that cannot wake them
 * (a zombie's /proc entry, a Windows pipe, a failed spawn's retry).
 */
export function napSync(ms: number): void {
  Atomics.wait(NAP, 0, 0, ms);
}
