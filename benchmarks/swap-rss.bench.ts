// RSS growth over 300 swaps (each: copy, load, validate, serve, then the old version
// drains, unloads, its thread ends and its copy is removed), with calls between swaps.
// Beside it, the growth of as many plain worker threads started and ended by hand.
// Growth is measured after 30 warm-up swaps (heaps reach their working size) and from the
// start, beside the RSS of the same process before the host; each after a full GC, and
// without one (read just before that GC: what a program that never forces one sees).
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createIsolatedHost } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { echoWorker, r3, roundTrip, TICK, tickLibrary } from './fixtures.js';
import { report } from './report.js';

const WARM = 30;
const SWAPS = 300;
const mb = (bytes: number): number => r3(bytes / 2 ** 20);

// RSS after a full GC: what the swaps retain, not how lazily V8 collects.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** RSS as it is (no forced GC) and after a full GC, and the JS heap after it. */
const rssBoth = (): { raw: number; gc: number; heap: number } => {
  const raw = process.memoryUsage().rss;
  gc();
  const { rss: after, heapUsed } = process.memoryUsage();
  return { raw, gc: after, heap: heapUsed };
};
const rss = (): number => rssBoth().gc;

const { library } = await tickLibrary();

// Baseline: the same number of worker threads started (koffi, dlopen, one call) and ended
// by hand, which is what each swap does once; Node keeps some memory per thread it ran.
let churnWarm = { raw: 0, gc: 0, heap: 0 };
for (let i = 1; i <= WARM + SWAPS; i++) {
  const worker = await echoWorker(library);
  await roundTrip(worker, i);
  await worker.terminate();
  if (i === WARM) churnWarm = rssBoth();
}
const churnEnd = rssBoth();
const churnGrowth = churnEnd.gc - churnWarm.gc;
const churnGrowthNoGc = churnEnd.raw - churnWarm.raw;

const rssBefore = rss();
const host = await createIsolatedHost({ library, functions: TICK });
const rssStart = rss();
let rssWarm = { raw: rssStart, gc: rssStart, heap: 0 };
let rssEnd: { raw: number; gc: number; heap: number };
const started = performance.now();
try {
  for (let i = 1; i <= WARM + SWAPS; i++) {
    await host.reload();
    await Promise.all(Array.from({ length: 64 }, (_, x) => host.call('do_tick', x)));
    host.callSync('do_tick', i);
    if (i === WARM) rssWarm = rssBoth();
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // the last retirements finish
  rssEnd = rssBoth();
} finally {
  await host.close();
  await removeTempDirs();
}

report('swap-rss', {
  swaps: SWAPS,
  rssBeforeHostMB: mb(rssBefore),
  rssHostStartMB: mb(rssStart),
  rssAfterWarmMB: mb(rssWarm.gc),
  rssEndMB: mb(rssEnd.gc),
  growthOverSwapsMB: mb(rssEnd.gc - rssWarm.gc),
  growthFromStartMB: mb(rssEnd.gc - rssStart),
  plainWorkerChurnGrowthMB: mb(churnGrowth),
  growthVsPlainWorkerChurn: r3((rssEnd.gc - rssWarm.gc) / churnGrowth),
  growthOverSwapsNoGcMB: mb(rssEnd.raw - rssWarm.raw),
  jsHeapGrowthOverSwapsMB: mb(rssEnd.heap - rssWarm.heap),
  plainWorkerChurnGrowthNoGcMB: mb(churnGrowthNoGc),
  growthVsPlainWorkerChurnNoGc: r3((rssEnd.raw - rssWarm.raw) / churnGrowthNoGc),
  msPerSwap: r3((performance.now() - started) / (WARM + SWAPS)),
  loadAvg1: r3(loadavg()[0]!),
  target: 'growthOverSwapsMB and growthOverSwapsNoGcMB <= 10, and <= 2x plain worker churn',
});
