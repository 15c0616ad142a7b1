/**
 * Milliseconds from an arbitrary origin, to the microsecond, as `performance.now()`, for
 * the code that runs in a worker or child: the global `performance` loads Node's
 * perf_hooks on first use, ~1.3 ms of every new worker's start (the host has it anyway).
 */
export function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
