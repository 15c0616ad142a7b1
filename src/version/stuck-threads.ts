import { platform } from '../platform/platform.js';
import { IsoswapError } from '../errors.js';
import { guestThreads, keepMapped } from '../library/guest-threads.js';
import { whenLoaderIdle } from '../library/loader-sweep.js';
import type { VersionRuntime } from '../runtime/types.js';
import { threadAlive } from '../transport/thread-alive.js';

/** Which version a diagnosis is about. */
export interface VersionPlace {
  version: number;
  /** The library as the user named it. */
  file: string;
}

/**
 * Why a killed runtime did not end within its grace: a worker thread that ended inside a
 * native call (pthread_exit: nothing can ever join it, so the runtime is let go of), or
 * one stuck in a native call, which `terminate()` cannot stop.
 */
export function stuckThreadError(runtime: VersionRuntime, where: VersionPlace): IsoswapError {
  const { version, file } = where;
  const exited = (runtime.report.tids ?? []).filter((tid) => !threadAlive(tid));
  if (exited.length > 0) {
    runtime.abandon();
    return new IsoswapError('ERR_THREAD_EXITED',
      `version ${version} (${file}): a worker thread ended inside a native call (pthread_exit?, tid ${exited.join(', ')}); ` +
      'its calls never return, and Node aborts when the process exits (docs/deadlines.md)', { ...where, tids: exited });
  }
  return new IsoswapError('ERR_THREAD_STUCK',
    `version ${version} (${file}): a worker thread is stuck in a native call and cannot be stopped; ` +
    'it ends when the call returns, and the process cannot exit before (isolation: \'process\' can kill such a call)', { ...where });
}

/**
 * Thread isolation: threads the library started (they carry the version's thread name)
 * and that still run, or signal handlers it installed for the whole process, would
 * execute unmapped code once the copy is unloaded. The copy is pinned instead (never
 * unmapped) and the ERR_GUEST_THREADS or ERR_SIGNAL_HANDLER to report is returned. The pin
 * is a dlopen on this thread: never while a guest constructor or destructor may hold the
 * loader lock. If none lets go within `loaderWaitMs`, `keepRuntime` says to keep the
 * version's worker thread instead (its end would unload the copy).
 */
export async function keepGuestThreadsMapped(runtime: VersionRuntime, copy: string, where: VersionPlace, loaderWaitMs: number):
  Promise<{ error: IsoswapError | null; keepRuntime: boolean }> {
  const name = runtime.report.threadName;
  if (name === undefined) return { error: null, keepRuntime: false };
  const running = guestThreads(name, runtime.report.tids ?? [], runtime.report.loadMark);
  const signals = running.length === 0 ? platform().signalHandlersIn(copy) : [];
  if (running.length === 0 && signals.length === 0) return { error: null, keepRuntime: false };
  const pinnable = await whenLoaderIdle(loaderWaitMs);
  if (pinnable) keepMapped(copy);
  const error = running.length === 0
    ? new IsoswapError('ERR_SIGNAL_HANDLER',
      `version ${where.version} (${where.file}) left its handler installed for signal(s) ${signals.join(', ')}: ` +
      'its copy stays mapped until the process exits; restore the previous handlers in isoswap_unload',
      { ...where, signals, phase: 'unload-hook' })
    : new IsoswapError('ERR_GUEST_THREADS',
      `version ${where.version} (${where.file}) left ${running.length} thread(s) running (tid ${running.join(', ')}): ` +
      'its copy stays mapped until the process exits; stop them in isoswap_unload',
      { ...where, tids: running, phase: 'unload-hook' });
  return { error, keepRuntime: !pinnable };
}
