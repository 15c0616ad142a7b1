// reload() until the new version serves (resolved, then answered one call), p50/p90 in ms:
// with the warm standby ready (saves a while apart, as in a dev loop), back to back (the
// standby still starting) and at gaps in between, beside what a swap costs without
// isoswap's standby: a new Worker that imports koffi, loads a copy and answers a first
// call. Back to back should cost at most that cold start plus a warm reload.
import { copyFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createIsolatedHost } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { echoWorker, r3, roundTrip, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';

const SWAPS = 40;
const APART_MS = 150;

const { library, dir } = await tickLibrary();

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const newWorker: number[] = [];
for (let i = 0; i < SWAPS / 2; i++) {
  const copy = join(dir, `fresh-${i}.so`); // dlopen of a path already loaded would not load
  await copyFile(library, copy);
  newWorker.push(await timeMs(async () => {
    const worker = await echoWorker(copy);
    await roundTrip(worker, 1);
    void worker.terminate();
  }));
  await sleep(APART_MS);
}

const host = await createIsolatedHost({ library, functions: TICK });
const warm: number[] = [];
const backToBack: number[] = [];
/** Gap between reloads (ms) → reload times, for the gaps between back to back and warm. */
const GAPS = [20, 50, 100];
const byGap = new Map<number, number[]>(GAPS.map((g) => [g, []]));
try {
  const swap = (): Promise<unknown> => host.reload().then(() => host.call('do_tick', 1));
  await swap();
  for (let i = 0; i < SWAPS; i++) {
    await sleep(APART_MS);
    warm.push(await timeMs(swap));
  }
  for (let i = 0; i < SWAPS; i++) backToBack.push(await timeMs(swap));
  for (const gap of GAPS) {
    await sleep(APART_MS);
    for (let i = 0; i < SWAPS / 2; i++) {
      await sleep(gap);
      byGap.get(gap)!.push(await timeMs(swap));
    }
  }
} finally {
  await host.close();
  await removeTempDirs();
}

const p50 = (s: number[]): number => r3(percentile(s, 50));
report('reload', {
  reloadWarmStandbyP50Ms: p50(warm),
  reloadWarmStandbyP90Ms: r3(percentile(warm, 90)),
  reloadBackToBackP50Ms: p50(backToBack),
  ...Object.fromEntries(GAPS.map((g) => [`reloadGap${g}MsP50Ms`, p50(byGap.get(g)!)])),
  newWorkerLoadFirstCallP50Ms: p50(newWorker),
  newWorkerVsReload: r3(percentile(newWorker, 50) / percentile(warm, 50)),
  backToBackBoundMs: r3(percentile(newWorker, 50) + percentile(warm, 50)),
  backToBackVsBound: r3(percentile(backToBack, 50) / (percentile(newWorker, 50) + percentile(warm, 50))),
  loadAvg1: r3(loadavg()[0]!),
  target: 'reloadWarmStandbyP50Ms <= 5, backToBackVsBound <= 1',
});
