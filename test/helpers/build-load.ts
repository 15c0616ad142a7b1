// A load shaped like a build, for the benchmarks' loaded figures: one C compile loop per
// core (short gcc processes: fork, exec, file I/O, page faults). Plain busy loops do not
// show what a build does to wake-ups. The swap-storm test runs one as its CPU hog.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

/** A translation unit that takes gcc -O2 some tens of ms. */
function source(): string {
  const fns = Array.from({ length: 120 }, (_, i) =>
    `int f${i}(int *a, int n) { int s = ${i}; for (int j = 0; j < n; j++) s = s * 31 + a[j] / (j + ${i + 1}); return s; }`);
  return `#include <stdio.h>\n#include <string.h>\n${fns.join('\n')}\n`;
}

/** A running build load; stop() ends every loop and removes its files. */
export interface BuildLoad {
  readonly loops: number;
  stop(): void;
}

/**
 * Starts `loops` compile loops (default: one per core).
 *
 * @example
 * const load = startBuildLoad(); try { measure(); } finally { load.stop(); }
 */
export function startBuildLoad(loops = availableParallelism()): BuildLoad {
  const dir = mkdtempSync(join(tmpdir(), 'isoswap-load-'));
  const file = join(dir, 'unit.c');
  writeFileSync(file, source());
  const children: ChildProcess[] = [];
  for (let i = 0; i < loops; i++) {
    // its own process group, so that stop() ends the shell and the gcc it runs
    children.push(spawn('sh', ['-c', `while :; do gcc -O2 -c ${file} -o ${join(dir, `unit${i}.o`)}; done`], { stdio: 'ignore', detached: true }));
  }
  const stop = (): void => {
    for (const child of children) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    children.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop); // never left running, whatever happens to the bench
  return { loops, stop };
}

/** How long the loops run before a loaded figure is measured. */
const RAMP_MS = 1000;

/**
 * Measures under a build load: starts it, lets it get going, runs `measure`, and stops
 * it whatever happens. Returns what `measure` gave and how many loops ran.
 */
export async function underBuildLoad<T>(measure: () => Promise<T>): Promise<{ result: T; loops: number }> {
  const load = startBuildLoad();
  try {
    await sleep(RAMP_MS);
    return { result: await measure(), loops: load.loops };
  } finally {
    load.stop();
  }
}
