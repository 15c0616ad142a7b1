// C fixtures of the hardening tests (issue 15): libraries whose hooks never return, that
// crash in a given phase, that start threads or end their worker thread, and that take
// every kind of argument.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);

/** Waits (bounded: 20 s) until the file `go` exists: a rendezvous, not a sleep. */
const waitFor = (go: string): string => `for (int i = 0; i < 20000 && access("${go}", F_OK) != 0; i++) usleep(1000);`;

/** `version()` = k, with an isoswap_load and/or isoswap_unload that wait for `go`. */
export function stuckHookSource(k: number, hooks: { load?: string; unload?: string; loadOk?: boolean }): string {
  return `#include <stdint.h>
#include <unistd.h>
int32_t version(void) { return ${k}; }
${hooks.load !== undefined ? `int32_t isoswap_load(void *state, uint32_t bytes) { ${waitFor(hooks.load)} return 0; }` : ''}
${hooks.loadOk ? 'int32_t isoswap_load(void *state, uint32_t bytes) { return 0; }' : ''}
${hooks.unload !== undefined ? `void isoswap_unload(void *state, uint32_t bytes) { ${waitFor(hooks.unload)} }` : ''}
`;
}

/** `version()` = k, aborting in the named phase (process isolation only). */
export function crashingSource(k: number, phase: 'constructor' | 'load-hook' | 'unload-hook' | 'none'): string {
  return `#include <stdint.h>
#include <stdlib.h>
int32_t version(void) { return ${k}; }
void crash(void) { abort(); }
${phase === 'constructor' ? '__attribute__((constructor)) static void boom(void) { abort(); }' : ''}
${phase === 'load-hook' ? 'int32_t isoswap_load(void *s, uint32_t b) { abort(); }' : ''}
${phase === 'unload-hook' ? 'void isoswap_unload(void *s, uint32_t b) { abort(); }' : ''}
`;
}

/** One function per kind of parameter koffi checks loosely (or not at all). */
export const ARGS_SOURCE = `#include <stdint.h>
#include <stdbool.h>
#include <string.h>
int32_t add(int32_t a, int32_t b) { return a + b; }
uint8_t u8(uint8_t x) { return x; }
int64_t add64(int64_t a, int64_t b) { return a + b; }
uint32_t len(const char *s) { return s ? (uint32_t)strlen(s) : 0; }
int32_t first(const uint8_t *p) { return p ? p[0] : -1; }
double half(double x) { return x / 2; }
int32_t flag(bool b) { return b ? 1 : 0; }
`;

export const ARGS_FUNCTIONS = {
  add: 'int32_t add(int32_t, int32_t)',
  u8: 'uint8_t u8(uint8_t)',
  add64: 'int64_t add64(int64_t, int64_t)',
  len: 'uint32_t len(const char *)',
  first: 'int32_t first(const uint8_t *)',
  half: 'double half(double)',
  flag: 'int32_t flag(bool)',
} as const;

/**
 * Thread fixtures: start_thread(go) starts a thread that runs the library's code until
 * `go` exists; exit_thread() calls pthread_exit on the calling (worker) thread.
 */
export const THREADS_SOURCE = `#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void *spin(void *arg) {
  const char *go = arg;
  for (int i = 0; i < 20000 && access(go, F_OK) != 0; i++) usleep(1000);
  return NULL;
}
int32_t start_thread(const char *go) {
  pthread_t t;
  if (pthread_create(&t, NULL, spin, strdup(go)) != 0) return -1;
  pthread_detach(t);
  return 1;
}
int32_t exit_thread(void) { pthread_exit(NULL); return 0; }
`;

const CHILD = fileURLToPath(new URL('../fixtures/harden-child.js', import.meta.url));

/** Runs a scenario of harden-child.ts in its own Node process; its last JSON line and
 *  exit status (bounded: 60 s). */
export async function inChild(scenario: string, input: unknown): Promise<{ result: any; status: number | null; signal: string | null; stderr: string }> {
  const json = JSON.stringify(input, (_key, v: unknown) => (typeof v === 'bigint' ? { $bigint: String(v) } : v));
  try {
    const { stdout, stderr } = await run(process.execPath, [CHILD, scenario, json], { timeout: 60_000 });
    return { result: lastJson(stdout), status: 0, signal: null, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number; signal?: string };
    return { result: lastJson(e.stdout ?? ''), status: typeof e.code === 'number' ? e.code : null, signal: e.signal ?? null, stderr: e.stderr ?? '' };
  }
}

function lastJson(stdout: string): any {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return line === undefined ? null : JSON.parse(line);
}
