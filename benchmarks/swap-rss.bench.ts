// RSS growth over 300 swaps (each: copy, load, validate, serve, then the old version
// drains, unloads, its thread ends and its copy is removed), with calls between swaps.
// Beside it, the growth of as many plain worker threads started and ended by hand.
// Growth is measured after 30 warm-up swaps (heaps reach their working size) and from the
// start, beside the RSS of the same process before the host; each after a full GC.
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
const rss = (): number => {
  gc();
  return process.memoryUsage().rss;
};

const { library } = await tickLibrary();

// Baseline: the same number of worker threads started (koffi, dlopen, one call) and ended
// by hand, which is what each swap does once; Node keeps some memory per thread it ran.
let churnWarm = 0;
for (let i = 1; i <= WARM + SWAPS; i++) {
  const worker = await echoWorker(library);
  await roundTrip(worker, i);
  await worker.terminate();
  if (i === WARM) churnWarm = rss();
}
const churnGrowth = rss() - churnWarm;

const rssBefore = rss();
const host = await createIsolatedHost({ library, functions: TICK });
const rssStart = rss();
let rssWarm = rssStart;
let rssEnd: number;
const started = performance.now();
try {
  for (let i = 1; i <= WARM + SWAPS; i++) {
    await host.reload();
    await Promise.all(Array.from({ length: 64 }, (_, x) => host.call('do_tick', x)));
    host.callSync('do_tick', i);
    if (i === WARM) rssWarm = rss();
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // the last retirements finish
  rssEnd = rss();
} finally {
  await host.close();
  await removeTempDirs();
}

report('swap-rss', {
  swaps: SWAPS,
  rssBeforeHostMB: mb(rssBefore),
  rssHostStartMB: mb(rssStart),
  rssAfterWarmMB: mb(rssWarm),
  rssEndMB: mb(rssEnd),
  growthOverSwapsMB: mb(rssEnd - rssWarm),
  growthFromStartMB: mb(rssEnd - rssStart),
  plainWorkerChurnGrowthMB: mb(churnGrowth),
  growthVsPlainWorkerChurn: r3((rssEnd - rssWarm) / churnGrowth),
  msPerSwap: r3((performance.now() - started) / (WARM + SWAPS)),
  loadAvg1: r3(loadavg()[0]!),
  target: 'growthOverSwapsMB <= 30',
});
