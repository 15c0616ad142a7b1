import koffi from 'koffi';
import { libcFunctions } from '../library/libc.js';
import { platform } from '../platform/platform.js';

// Not FUTEX_PRIVATE: the word lives in a mapping shared with another process.
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const EAGAIN = 11;
const ETIMEDOUT = 110;
const SYS_FUTEX: Partial<Record<string, number>> = { x64: 202, arm64: 98 };

/** What {@link futexWait} saw, as Atomics.wait says it. */
export type FutexResult = 'ok' | 'not-equal' | 'timed-out';

/**
 * Atomics.wait for an int32 in memory shared between processes: sleeps while the word at
 * `address` (a byte address, from koffi.address) holds `expected`, at most `timeoutMs`.
 * Atomics.wait itself throws on a koffi view (an ArrayBuffer, not a SharedArrayBuffer).
 * A signal (EINTR) counts as a wake-up: callers re-check the word anyway.
 */
export function futexWait(address: number, expected: number, timeoutMs: number): FutexResult {
  const timeout = Buffer.alloc(16); // struct timespec: relative for FUTEX_WAIT
  const ns = BigInt(Math.max(0, Math.round(timeoutMs * 1e6)));
  timeout.writeBigInt64LE(ns / 1_000_000_000n, 0);
  timeout.writeBigInt64LE(ns % 1_000_000_000n, 8);
  if (libcFunctions().futex(futexNumber(), address, FUTEX_WAIT, expected, timeout, 0, 0) === 0) return 'ok';
  const errno = koffi.errno();
  return errno === EAGAIN ? 'not-equal' : errno === ETIMEDOUT ? 'timed-out' : 'ok';
}

/**
 * Atomics.notify across processes: wakes every sleeper in {@link futexWait} on `address`.
 * A shared futex costs a syscall that looks the page up, even when nobody waits: callers
 * wake only a side that said it sleeps.
 */
export function futexWake(address: number): number {
  return libcFunctions().futex(futexNumber(), address, FUTEX_WAKE, 0x7fffffff, null, 0, 0);
}

/** Whether this machine has the futex calls above (Linux on x86-64 or arm64): elsewhere a
 *  child process gets no ring (process-ring.ts) and its calls go over IPC and pipes. */
export function futexAvailable(): boolean {
  return platform().inheritedChannels && SYS_FUTEX[process.arch] !== undefined;
}

function futexNumber(): number {
  return SYS_FUTEX[process.arch]!; // only called where FUTEX_AVAILABLE
}
