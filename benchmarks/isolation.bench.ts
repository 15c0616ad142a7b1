// What each isolation mode costs: call latency (one call at a time, p50/p99: int32 and a
// string on the ring, await and callSync, beside the message path and, for process mode,
// the sync pipes callSync used before the ring, and calls/s with 1024 in flight) and start time
// (createIsolatedHost → first call answered), swap time (reload() → new version serves),
// thread vs process, beside the same native call made directly in this process with
// koffi; plus, for process mode, how long a crash takes to be served again (crash →
// restarted build answers).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import koffi from 'koffi';
import { createIsolatedHost, type Isolation } from '../src/index.js';
import { buildC, removeTempDirs } from '../test/helpers/native.js';
import { ACT, ACT_FUNCTIONS, actSource, childPids } from '../test/helpers/act-fixture.js';
import { r3, sampleSyncUs, sampleUs, SHOUT_ARG, SHOUT_ARG_BUFFER, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';
import { FIRST_STANDBY_DELAY_MS } from '../src/runtime/start.js';

const CALLS = 5_000;
const WARM = 500;
const STARTS = 10;
const CRASHES = 10;
const SWAPS = 10;
/** Lets the standby worker or process started after a load finish booting. */
/** Long enough for a new host's first standby (started FIRST_STANDBY_DELAY_MS after it
 *  serves; a Node process starts in ~200 ms here) to be warm. */
const SETTLE_MS = FIRST_STANDBY_DELAY_MS + 750;

const { library, copy } = await tickLibrary();
const figures: Record<string, number> = {};
const p50 = (samples: number[]): number => r3(percentile(samples, 50));
const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

// Baseline: a batch timed as one (a single call is shorter than a clock read).
const tick = koffi.load(copy).func('int32_t do_tick(int32_t)') as (x: number) => number;
const BATCH = 1000;
const directUs = p50(await sampleUs(2_000, 200, () => { for (let i = 0; i < BATCH; i++) tick(i); })) / BATCH;
figures['directKoffiCallP50Us'] = r3(directUs);

for (const isolation of ['thread', 'process'] as const satisfies readonly Isolation[]) {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = performance.now();
    const host = await createIsolatedHost({ library, functions: TICK, isolation });
    await host.call('do_tick', 1);
    starts.push(performance.now() - t0);
    await host.close();
  }
  figures[`${isolation}StartP50Ms`] = p50(starts);

  const host = await createIsolatedHost({ library, functions: TICK, isolation });
  try {
    await sleep(SETTLE_MS);
    const calls = await sampleUs(CALLS, WARM, (i) => host.call('do_tick', i));
    figures[`${isolation}CallP50Us`] = p50(calls);
    figures[`${isolation}CallP99Us`] = r3(percentile(calls, 99));
    figures[`${isolation}CallSyncP50Us`] = p50(sampleSyncUs(CALLS, WARM, (i) => host.callSync('do_tick', i)));
    figures[`${isolation}StringCallP50Us`] = p50(await sampleUs(CALLS, WARM, () => host.call('shout', SHOUT_ARG)));
    figures[`${isolation}StringCallSyncP50Us`] = p50(sampleSyncUs(CALLS, WARM, () => host.callSync('shout', SHOUT_ARG)));
    // A Buffer for the `const char *`: koffi takes it, the ring does not (the message path:
    // comlink over a MessagePort or the IPC channel; callSync: the port or the sync pipes).
    figures[`${isolation}MessageCallP50Us`] = p50(await sampleUs(CALLS / 5, WARM, () => host.call('shout', SHOUT_ARG_BUFFER)));
    figures[`${isolation}MessageCallSyncP50Us`] = p50(sampleSyncUs(CALLS / 5, WARM, () => host.callSync('shout', SHOUT_ARG_BUFFER)));
    const batch = Array.from({ length: 1024 }, (_, i) => i);
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) await Promise.all(batch.map((x) => host.call('do_tick', x)));
    figures[`${isolation}CallMcps`] = r3((50 * batch.length) / (performance.now() - t0) / 1000);
    const swaps: number[] = [];
    host.on('swap', ({ ms }) => swaps.push(ms));
    for (let i = 0; i < SWAPS; i++) {
      await host.reload();
      await sleep(SETTLE_MS); // the standby that replaces the one taken has booted
    }
    figures[`${isolation}SwapP50Ms`] = p50(swaps);
    if (isolation === 'process') {
      // What a version's child costs in memory (the standby is one more), beside this host.
      const rss = childPids().map((pid) => rssMb(pid));
      figures['processChildRssMb'] = p50(rss);
      figures['processChildren'] = rss.length;
      figures['hostRssMb'] = r3(process.memoryUsage().rss / 2 ** 20);
    }
  } finally {
    await host.close();
  }
  figures[`${isolation}CallVsDirect`] = r3(figures[`${isolation}CallP50Us`]! / directUs);
}

// Process mode: a segfault in a call, until the restarted build answers again. A fresh
// host each time: a build that crashes 3 times within 10 s is given up on (CrashPolicy).
const actLibrary = await buildC(actSource(1));
const recoveries: number[] = [];
for (let i = 0; i < CRASHES; i++) {
  const host = await createIsolatedHost({ library: actLibrary, functions: ACT_FUNCTIONS, isolation: 'process' });
  host.on('error', () => {});
  try {
    await sleep(SETTLE_MS); // a crash in a host that has been serving a while: its standby is warm
    const swapped = new Promise((resolve) => host.once('swap', resolve));
    const t0 = performance.now();
    await host.call('act', ACT.SEGFAULT).catch(() => {});
    await swapped;
    await host.call('act', ACT.RETURN);
    recoveries.push(performance.now() - t0);
  } finally {
    await host.close();
  }
}
figures['processCrashToServingP50Ms'] = p50(recoveries);

figures['processCallSyncVsCall'] = r3(figures['processCallSyncP50Us']! / figures['processCallP50Us']!);
figures['processVsThreadCall'] = r3(figures['processCallP50Us']! / figures['threadCallP50Us']!);
figures['processVsThreadCallSync'] = r3(figures['processCallSyncP50Us']! / figures['threadCallSyncP50Us']!);
figures['processMessageVsRingCall'] = r3(figures['processMessageCallP50Us']! / figures['processCallP50Us']!);
figures['processPipesVsRingCallSync'] = r3(figures['processMessageCallSyncP50Us']! / figures['processCallSyncP50Us']!);
figures['loadAvg1'] = r3(loadavg()[0]!);
figures['processVsThreadStart'] = r3(figures['processStartP50Ms']! / figures['threadStartP50Ms']!);
report('isolation', { ...figures, targets: 'processCallP50Us <= 5, processCallSyncP50Us <= 3' });
await removeTempDirs();
