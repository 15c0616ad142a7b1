// A game loop under watch: callSync every frame while the library (globals in the
// isoswap_state section and a state block) is saved 20 times. Reports the worst frame time
// beside the 16.7 ms budget of 60 Hz, and, as the baseline measured in the same run, the
// worst frame of the same loop with no save at all. Both isolations. Then the same paced
// at 60 Hz (a frame every 16.7 ms, so every call meets an idle worker) through 10 saves,
// quiet and again while a build runs (one C compile loop per core, build-load.ts), each
// beside its baseline without saves measured in the same conditions.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { createIsolatedHost, type Isolation } from '../src/index.js';
import { underBuildLoad } from '../test/helpers/build-load.js';
import { largest, percentile, report } from './report.js';

const SAVES = 20;
const PACED_SAVES = 10;
const FRAME_BUDGET_MS = 1000 / 60;
const INCLUDE = fileURLToPath(new URL('../../native/include', import.meta.url));

const source = (k: number): string => `#include <stdint.h>
#include "isoswap.h"
ISOSWAP_STATE static int32_t frames = 0;
static int32_t *S = 0;
int32_t isoswap_load(void *state, uint32_t bytes) { S = state; (void)bytes; return 0; }
void isoswap_unload(void *state, uint32_t bytes) { (void)state; (void)bytes; S = 0; }
int32_t frame(int32_t x) { if (S) S[0] += x; return ++frames; }
int32_t build(void) { return ${k}; }
`;

const dir = mkdtempSync(join(tmpdir(), 'isoswap-bench-'));
const builds = [1, 2].map((k) => {
  const out = join(dir, `build${k}.so`);
  writeFileSync(`${out}.c`, source(k));
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', `-I${INCLUDE}`, '-o', out, `${out}.c`]);
  return out;
});

/** Frames (ms each) of a loop that runs until `saves` watched swaps happened (or
 *  `minFrames`), a frame every `paceMs` (0: every turn). */
async function loop(isolation: Isolation, saves: number, minFrames: number, paceMs = 0): Promise<{ frameMs: number[]; lost: number }> {
  const library = join(dir, `lib-${isolation}-${saves}-${paceMs}.so`);
  copyFileSync(builds[0]!, library);
  const host = await createIsolatedHost({ library, functions: { frame: 'int32_t frame(int32_t)' }, isolation, watch: true, state: { bytes: 64 } });
  let swaps = 0;
  let saved = 0;
  host.on('swap', () => { swaps++; });
  const frameMs: number[] = [];
  let expected = 0;
  let lost = 0;
  try {
    while (swaps < saves || frameMs.length < minFrames) {
      if (saved < saves && swaps === saved) {
        saved++;
        copyFileSync(builds[saved % 2]!, `${library}.tmp`);
        renameSync(`${library}.tmp`, library);
      }
      const started = performance.now();
      const counted = host.callSync('frame', 1);
      frameMs.push(performance.now() - started);
      if (counted !== ++expected) lost++;
      await (paceMs > 0 ? sleep(paceMs) : nextTurn());
    }
  } finally {
    await host.close();
  }
  return { frameMs, lost };
}

try {
  for (const isolation of ['thread', 'process'] as const) {
    const swapping = await loop(isolation, SAVES, 0);
    const baseline = await loop(isolation, 0, swapping.frameMs.length);
    const worst = largest(swapping.frameMs);
    const baselineWorst = largest(baseline.frameMs);
    report('frame-budget', {
      isolation,
      saves: SAVES,
      frames: swapping.frameMs.length,
      framesLostOrRepeated: swapping.lost,
      worstFrameMs: Number(worst.toFixed(3)),
      frameBudgetMs: Number(FRAME_BUDGET_MS.toFixed(1)),
      worstOverBudget: Number((worst / FRAME_BUDGET_MS).toFixed(3)),
      p99FrameMs: Number(percentile(swapping.frameMs, 99).toFixed(3)),
      baselineWorstFrameMs: Number(baselineWorst.toFixed(3)),
      worstRatioToBaseline: Number((worst / baselineWorst).toFixed(2)),
    });
  }
  const paced = async (isolation: Isolation): Promise<{ swapping: number[]; lost: number; baseline: number[] }> => {
    const swapping = await loop(isolation, PACED_SAVES, 0, FRAME_BUDGET_MS);
    const baseline = await loop(isolation, 0, swapping.frameMs.length, FRAME_BUDGET_MS);
    return { swapping: swapping.frameMs, lost: swapping.lost, baseline: baseline.frameMs };
  };
  const quiet = { thread: await paced('thread'), process: await paced('process') };
  const { result: loaded, loops } = await underBuildLoad(async () => ({ thread: await paced('thread'), process: await paced('process') }));
  const ms = (x: number): number => Number(x.toFixed(3));
  for (const isolation of ['thread', 'process'] as const) {
    const q = quiet[isolation];
    const l = loaded[isolation];
    report('frame-budget-60hz', {
      isolation,
      saves: PACED_SAVES,
      frames: q.swapping.length,
      framesLostOrRepeated: q.lost,
      worstFrameMs: ms(largest(q.swapping)),
      p50FrameMs: ms(percentile(q.swapping, 50)),
      frameBudgetMs: Number(FRAME_BUDGET_MS.toFixed(1)),
      baselineWorstFrameMs: ms(largest(q.baseline)),
      baselineP50FrameMs: ms(percentile(q.baseline, 50)),
      target: 'worstFrameMs <= 16.7 (quiet machine)',
      loadLoops: loops,
      loadedFrames: l.swapping.length,
      loadedFramesLostOrRepeated: l.lost,
      loadedWorstFrameMs: ms(largest(l.swapping)),
      loadedP50FrameMs: ms(percentile(l.swapping, 50)),
      loadedBaselineWorstFrameMs: ms(largest(l.baseline)),
      loadedBaselineP50FrameMs: ms(percentile(l.baseline, 50)),
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
