import type { IsoswapError } from '../errors.js';
import type { LoadInfo } from '../wire/protocol.js';

/** enum isoswap_reason of native/include/isoswap.h. */
export const LOAD_REASON = { first: 0, reload: 1, watch: 1, fleet: 1, rollback: 2, restart: 3, reattach: 4 } as const;

/** enum isoswap_failure of native/include/isoswap.h. */
export const FAILURE = { none: 0, segfault: 1, illegal: 2, abort: 3, fpe: 4, signal: 5, exit: 6, timeout: 7, other: 8 } as const;

const FAILURE_OF_SIGNAL: Record<string, number> = {
  SIGSEGV: FAILURE.segfault, SIGBUS: FAILURE.segfault, SIGILL: FAILURE.illegal, SIGABRT: FAILURE.abort, SIGFPE: FAILURE.fpe,
};

/**
 * What the crash of a version is, as a guest's isoswap_load_ex is told it.
 */
export function failureOf(error: IsoswapError): number {
  if (error.code === 'ERR_CALL_TIMEOUT') return FAILURE.timeout;
  const { signal, exitCode } = error.details as { signal?: string | null; exitCode?: number | null };
  if (typeof signal === 'string') return FAILURE_OF_SIGNAL[signal] ?? FAILURE.signal;
  if (typeof exitCode === 'number' && error.details['pid'] !== undefined) return FAILURE.exit;
  return FAILURE.other;
}

export function loadInfo(version: number, reason: keyof typeof LOAD_REASON, failure: number, previous: number): LoadInfo {
  return { version, reason: LOAD_REASON[reason], failure, previous };
}
