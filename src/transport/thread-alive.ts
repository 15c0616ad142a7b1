import { existsSync } from 'node:fs';

/**
 * Whether the kernel thread `tid` of this process still runs. A host blocked in
 * Atomics.wait cannot receive a worker's 'exit' event, so it looks at /proc instead
 * (Linux; elsewhere, and for tid 0, the answer is "yes" and the wait relies on the
 * worker's own exit notice).
 *
 * @example
 * if (!threadAlive(tid)) throw new IsoswapError('ERR_VERSION_CRASHED', 'worker gone');
 */
export function threadAlive(tid: number): boolean {
  if (tid === 0 || process.platform !== 'linux') return true;
  return existsSync(`/proc/self/task/${tid}`);
}
