// A C library that misbehaves on request, for the crash, hang and swap tests.
import { readdirSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { createIsolatedHost, type IsolatedHost, type IsolatedHostOptions } from '../../src/index.js';
import { buildC } from './native.js';

/** What `act(what)` does. */
export const ACT = { RETURN: 0, SEGFAULT: 1, ABORT: 2, EXIT: 3, HANG: 4, SLEEP_2S: 5 } as const;

export const ACT_FUNCTIONS = {
  act: 'int32_t act(int32_t what)',
  tick: 'int32_t tick(void)',
  wait_file: 'int32_t wait_file(const char *path)',
  twice: 'int64_t twice(int64_t x)',
} as const;

export interface ActOptions {
  /** isoswap_load aborts from the `n`th load on (counted in the state block). */
  loadCrashFrom?: number;
  /** A constructor segfaults: dlopen itself kills the process. */
  crashInConstructor?: boolean;
  /** isoswap_load returns this (non-zero: refuse). */
  loadResult?: number;
  /** Leave `tick` out (ERR_SYMBOL_MISSING). */
  withoutTick?: boolean;
}

/**
 * C source of the act library, build `k`. act(0) returns k; act(1..5) segfault, abort,
 * exit(3), hang for ever, sleep 2 s. tick() counts in the state block's first int32
 * (its second counts loads). wait_file(path) returns k once `path` exists.
 *
 * @example
 * const lib = await buildC(actSource(1));
 */
export function actSource(k: number, o: ActOptions = {}): string {
  return `#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
static int32_t *block;
int32_t isoswap_load(void *state, uint32_t bytes) {
  block = state;
  int32_t loads = block ? ++block[1] : 0;
  ${o.loadCrashFrom !== undefined ? `if (loads >= ${o.loadCrashFrom}) abort();` : '(void)loads;'}
  return ${o.loadResult ?? 0};
}
${o.crashInConstructor ? '__attribute__((constructor)) static void boom(void) { volatile int *volatile p = 0; *p = 1; }' : ''}
int32_t act(int32_t what) {
  switch (what) {
    case 1: { volatile int *volatile p = 0; *p = 1; break; }
    case 2: abort();
    case 3: exit(3);
    case 4: for (;;) pause();
    case 5: sleep(2); break;
  }
  return ${k};
}
${o.withoutTick ? '' : 'int32_t tick(void) { return block ? ++block[0] : -1; }'}
int32_t wait_file(const char *path) { while (access(path, F_OK) != 0) usleep(1000); return ${k}; }
int64_t twice(int64_t x) { return x * 2; }
`;
}

/**
 * A host of the act library (build 5 unless `options.library` says otherwise), closed after
 * the test; its `error` events are expected (the tests provoke crashes) and dropped.
 */
export async function actHost(t: TestContext, options: Partial<IsolatedHostOptions<typeof ACT_FUNCTIONS>> = {}): Promise<IsolatedHost<typeof ACT_FUNCTIONS>> {
  const host = await createIsolatedHost({ library: options.library ?? await buildC(actSource(5)), functions: ACT_FUNCTIONS, ...options });
  t.after(() => host.close());
  host.on('error', () => {});
  return host;
}

/** Process ids whose parent is `ppid` (this process by default), from /proc. */
export function childPids(ppid = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; } // exited meanwhile
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === ppid) pids.push(Number(entry));
  }
  return pids;
}

/** True while `pid` runs: neither gone nor a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  let status: string;
  try { status = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return false; }
  return !/^State:\s+Z/m.test(status);
}

/** Children of `ppid` that sit in pause(): act(HANG), stuck in native code. */
export function pausedChildren(ppid = process.pid): number[] {
  return childPids(ppid).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/wchan`, 'utf8').includes('pause'); } catch { return false; }
  });
}

/** The first int32 of a state block (tick's counter). */
export function ticks(state: Uint8Array | undefined): number {
  if (state === undefined) throw new Error('no state block');
  return new DataView(state.buffer, state.byteOffset, state.byteLength).getInt32(0, true);
}
