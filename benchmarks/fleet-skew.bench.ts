// The skew of a fleet swap: from the first member serving the new build to the last (each
// member's cut-over time, on one machine's clock), for 4 and 16 node:cluster workers on
// this machine's cores, beside the whole swap (prepare everywhere, then commit). Members
// carry a light load (one lane of calls each), as a server would. Swaps come APART_MS
// apart, as deployments do: each member's standby and retiring version are done by then.
import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { createFleet } from '../src/index.js';
import { closeWorkers, forkMember } from '../test/helpers/fleet-cluster.js';
import { buildC, removeTempDirs, tickSource } from '../test/helpers/native.js';
import { percentile, report } from './report.js';

const SWAPS = 10;
const APART_MS = 500;
const r3 = (n: number): number => Math.round(n * 1000) / 1000;

const library = await buildC(tickSource(1));
try {
  for (const members of [4, 16]) {
    const created = createFleet({ transport: 'cluster', library, members, joinTimeoutMs: 300_000, prepareTimeoutMs: 120_000 });
    for (let i = 0; i < members; i++) forkMember(library, {}, 1);
    const fleet = await created;
    const skew: number[] = [];
    const swapMs: number[] = [];
    try {
      for (let i = 0; i < SWAPS; i++) {
        await buildC(tickSource(2 + (i % 2)), library);
        await sleep(APART_MS);
        const started = performance.now();
        const result = await fleet.swap();
        swapMs.push(performance.now() - started);
        skew.push(result.skewMs);
      }
    } finally {
      await fleet.close();
      await closeWorkers();
    }
    report('fleet-skew', {
      members, swaps: SWAPS,
      skewMsP50: r3(percentile(skew, 50)), skewMsMax: r3(Math.max(...skew)),
      swapMsP50: r3(percentile(swapMs, 50)), swapMsMax: r3(Math.max(...swapMs)),
      loadAvg1: r3(loadavg()[0] ?? NaN),
    });
  }
} finally {
  await removeTempDirs();
}
