// The pause of a swap with a state block: from the moment new calls are held until they
// flow to the new version (old version drains, isoswap_unload, isoswap_load). Measured
// over ~50 swaps under a steady call stream, beside the whole swap time of the same swaps
// and of swaps without a block (no pause), all in this run.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIsolatedHost, type SwapEvent } from '../src/index.js';
import { percentile, report } from './report.js';

const SWAPS = 50;
const STREAMS = 4;

const source = (k: number): string => `#include <stdint.h>
#include <string.h>
static int32_t *S = 0;
/* state is NULL in the run without a block. */
int32_t isoswap_load(void *state, uint32_t bytes) { S = state; if (S) S[1] += 1; (void)bytes; return 0; }
void isoswap_unload(void *state, uint32_t bytes) { if (state) memmove((char *)state + 64, state, 64); (void)bytes; S = 0; }
int32_t do_tick(int32_t x) { if (S) S[0] += 1; return x + ${k}; }
`;

const dir = mkdtempSync(join(tmpdir(), 'isoswap-bench-'));
const builds = [1, 2].map((k) => {
  const out = join(dir, `build${k}.so`);
  writeFileSync(`${out}.c`, source(k));
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', out, `${out}.c`]);
  return out;
});
const library = join(dir, 'libgame.so');

/** Puts build `i % 2` at `library` the way a linker does: a side file renamed into place. */
function install(i: number): void {
  copyFileSync(builds[i % 2]!, `${library}.tmp`);
  renameSync(`${library}.tmp`, library);
}

interface Run { swaps: SwapEvent[]; callMs: number[]; failed: number }

async function run(withState: boolean): Promise<Run> {
  install(0);
  const host = await createIsolatedHost({
    library,
    functions: { do_tick: 'int32_t do_tick(int32_t)' },
    ...(withState ? { state: { bytes: 4096 } } : {}),
  });
  const swaps: SwapEvent[] = [];
  host.on('swap', (e) => swaps.push(e));
  const callMs: number[] = [];
  let failed = 0;
  let stop = false;
  const stream = async (): Promise<void> => {
    for (let x = 0; !stop; x++) {
      const t0 = performance.now();
      try { await host.call('do_tick', x); callMs.push(performance.now() - t0); } catch { failed++; }
    }
  };
  const streams = Array.from({ length: STREAMS }, stream);
  try {
    for (let i = 1; i <= SWAPS; i++) {
      install(i);
      await host.reload();
    }
  } finally {
    stop = true;
    await Promise.all(streams);
    await host.close();
  }
  return { swaps, callMs, failed };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
const max = (samples: number[]): number => samples.reduce((a, b) => Math.max(a, b), -Infinity);
const spread = (samples: number[]) => ({ p50: round(percentile(samples, 50)), p90: round(percentile(samples, 90)), max: round(max(samples)) });

try {
  await run(true); // warm-up: koffi, workers, the page cache
  const stateful = await run(true);
  const plain = await run(false);
  const pauses = stateful.swaps.map((s) => s.pauseMs ?? NaN);
  const swapMs = stateful.swaps.map((s) => s.ms);
  const plainSwapMs = plain.swaps.map((s) => s.ms);
  report('state-pause', {
    swaps: stateful.swaps.length,
    concurrent_call_streams: STREAMS,
    pause_ms: spread(pauses),
    swap_ms: spread(swapMs),
    pause_share_of_swap_p50: round(percentile(pauses, 50) / percentile(swapMs, 50)),
    swap_ms_without_state: spread(plainSwapMs),
    swap_with_state_vs_without_p50: round(percentile(swapMs, 50) / percentile(plainSwapMs, 50)),
    call_ms_with_state: spread(stateful.callMs),
    call_ms_without_state: spread(plain.callMs),
    calls: stateful.callMs.length + plain.callMs.length,
    calls_failed: stateful.failed + plain.failed,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
