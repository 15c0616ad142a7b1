// A C library that keeps its globals in the host's state block and logs its own hooks
// there, built by the tests of issue 5 (state, hooks, history, rollback).
import { join } from 'node:path';
import { createIsolatedHost, type IsolatedHost } from '../../src/index.js';
import { buildC, makeTempDir } from './native.js';

/** Word offsets (int32) in the state block, as the fixture lays it out. */
export const WORD = {
  /** bump() increments it. */
  counter: 0,
  /** How many (build, event) pairs the log holds. */
  logLength: 1,
  /** Set by isoswap_unload when it starts, so a test can act during the pause. */
  unloadStarted: 2,
  /** First word of the log: pairs (build k, event). */
  log: 4,
} as const;

/** Both isolation modes give every version the same block. */
export const ISOLATIONS = ['thread', 'process'] as const;

export const EVENT = { load: 1, unload: 2 } as const;

export const FIXTURE_FUNCTIONS = {
  bump: 'int32_t bump(void)',
  slow_bump: 'int32_t slow_bump(int32_t)',
  version: 'int32_t version(void)',
  peek: 'int32_t peek(int32_t)',
  poke: 'void poke(int32_t, int32_t)',
  do_tick: 'int32_t do_tick(int32_t)',
  /** Bumps the counter once the file at `path` exists (at most 20 s): a rendezvous. */
  wait_file: 'int32_t wait_file(const char *)',
  /** abort(): only in process isolation, where it takes down a child, not the test. */
  crash: 'void crash(void)',
} as const;

export interface FixtureOptions {
  /** What version() returns and the log records; do_tick(x) is x + k. */
  k: number;
  /** isoswap_load returns it (non-zero refuses), after scribbling over the block. */
  refuse?: number;
  /** isoswap_load returns it from its second run on (the first one accepts). */
  refuseReattach?: number;
  /** isoswap_unload sleeps that long, to widen the swap's pause. */
  unloadSleepUs?: number;
  /** Without a state block: append "load k null bytes" / "unload k" lines to this file. */
  logFile?: string;
}

/**
 * C source of the fixture. The state pointer is kept in a global from isoswap_load to
 * isoswap_unload, as a real game library keeps its "struct with all the globals": every
 * function works through that kept pointer, so a copy made per call would show.
 */
export function stateFixtureSource({ k, refuse = 0, refuseReattach = 0, unloadSleepUs = 0, logFile }: FixtureOptions): string {
  const fileLog = logFile === undefined ? '' : `
  FILE *f = fopen(${JSON.stringify(logFile)}, "a");
  if (f) { fprintf(f, "%s %d %d %u\\n", what, ${k}, state == 0, bytes); fclose(f); }`;
  return `#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static int32_t *S = 0;
static int loads = 0;

static void file_log(const char *what, void *state, uint32_t bytes) {${fileLog}
  (void)what; (void)state; (void)bytes;
}

static void note(int32_t event) {
  if (!S) return;
  int32_t n = S[${WORD.logLength}];
  S[${WORD.log} + 2 * n] = ${k};
  S[${WORD.log} + 2 * n + 1] = event;
  S[${WORD.logLength}] = n + 1;
}

int32_t isoswap_load(void *state, uint32_t bytes) {
  file_log("load", state, bytes);
  S = state;
  note(${EVENT.load});
  if (${refuse} != 0 && S) { S[${WORD.counter}] = -999; S[${WORD.unloadStarted}] = -999; }
  if (++loads > 1 && ${refuseReattach} != 0) return ${refuseReattach};
  return ${refuse};
}

void isoswap_unload(void *state, uint32_t bytes) {
  file_log("unload", state, bytes);
  if (S) __atomic_store_n(&S[${WORD.unloadStarted}], 1, __ATOMIC_SEQ_CST);
  if (${unloadSleepUs} > 0) usleep(${unloadSleepUs});
  note(${EVENT.unload});
  if (S) __atomic_store_n(&S[${WORD.unloadStarted}], 0, __ATOMIC_SEQ_CST);
  S = 0;
}

/* -1 when the version is not attached to the block (no load hook ran, or it unloaded). */
int32_t bump(void) { return S ? ++S[${WORD.counter}] : -1; }
int32_t slow_bump(int32_t us) { usleep(us); return S ? ++S[${WORD.counter}] : -1; }
int32_t wait_file(const char *path) { for (int i = 0; i < 20000 && access(path, F_OK) != 0; i++) usleep(1000); return S ? ++S[${WORD.counter}] : -1; }
int32_t version(void) { return ${k}; }
int32_t peek(int32_t i) { return S ? S[i] : -1; }
void poke(int32_t i, int32_t v) { if (S) S[i] = v; }
int32_t do_tick(int32_t x) { return x + ${k}; }
void crash(void) { abort(); }
`;
}

/** Builds the fixture at `out` (renamed into place, as a linker would). */
export function buildStateFixture(options: FixtureOptions, out?: string): Promise<string> {
  return buildC(stateFixtureSource(options), out);
}

/** The block as int32 words, over the same memory (no copy). */
export function words(state: Uint8Array): Int32Array {
  return new Int32Array(state.buffer, state.byteOffset, state.byteLength >> 2);
}

/** The hook log the fixture keeps in the block, as [build k, 'load' | 'unload'] pairs. */
export function hookLog(state: Uint8Array): Array<[number, 'load' | 'unload']> {
  const w = words(state);
  const out: Array<[number, 'load' | 'unload']> = [];
  for (let i = 0; i < w[WORD.logLength]!; i++) {
    out.push([w[WORD.log + 2 * i]!, w[WORD.log + 2 * i + 1] === EVENT.load ? 'load' : 'unload']);
  }
  return out;
}

/**
 * A host without a state block on build 1 of the fixture, whose hooks log to a file
 * (they get NULL and 0); `t.after` closes it.
 */
export async function hostLoggingHooks(t: { after(fn: () => unknown): void }): Promise<{ host: IsolatedHost; library: string; logFile: string }> {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  const logFile = join(dir, 'hooks.log');
  await buildStateFixture({ k: 1, logFile }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS });
  t.after(() => host.close());
  return { host, library, logFile };
}
