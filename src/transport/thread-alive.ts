import { platform } from '../platform/platform.js';

/**
 * Whether the kernel thread `tid` of this process still runs. A host blocked in
 * Atomics.wait cannot receive a worker's 'exit' event, so it looks at /proc instead
 * (Linux; on Windows, and for tid 0, the answer is "yes" and the wait relies on the
 * worker's own exit notice).
 */
export function threadAlive(tid: number): boolean {
  return platform().threadAlive(tid);
}
