import koffi from 'koffi';
import { libc, libcFunctions } from './libc.js';
import { platform } from '../platform/platform.js';

/**
 * Set (to a number of ms) by `isoswap run`, whose pipes a process-isolation child's
 * fd 1 is: the child writes out its C stdout buffer that often. Into a pipe, C stdio
 * buffers 4 KiB before it writes; the library's lines would show that late.
 */
export const FLUSH_STDOUT_ENV = 'ISOSWAP_FLUSH_STDOUT_MS';

let stdout: unknown = null;

/**
 * Writes out what this process's C `stdout` buffer holds, unless another thread holds the
 * stream (one blocked in printf on a full pipe does: waiting for it could deadlock the
 * pipe's reader) or `mayWrite()`, asked with the stream locked, says no. False when
 * nothing was flushed.
 */
export function tryFlushStdout(mayWrite: () => boolean = () => true): boolean {
  const c = libcFunctions();
  stdout ??= koffi.decode(libc().symbol('stdout', 'void *'), 'void *');
  if (c.ftrylockfile(stdout) !== 0) return false;
  try {
    if (!mayWrite()) return false;
    c.fflush(stdout);
    return true;
  } finally {
    c.funlockfile(stdout);
  }
}

/**
 * In a child whose host asked for it ({@link FLUSH_STDOUT_ENV}), flushes C stdout that
 * often; does nothing otherwise.
 */
export function flushStdoutIfAsked(): void {
  const ms = Number(process.env[FLUSH_STDOUT_ENV]);
  if (Number.isFinite(ms) && ms > 0 && platform().inheritedChannels) setInterval(() => tryFlushStdout(), ms).unref();
}
