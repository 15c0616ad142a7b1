// CPU an idle host costs (process.cpuUsage counts every thread of the process, workers
// included), over IDLE_MS: right after start, and after a burst of fast-path calls has set
// both sides spinning; beside the same process idle before any host existed.
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIRST_STANDBY_DELAY_MS } from '../src/runtime/start.js';
import { createIsolatedHost } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { r3, TICK, tickLibrary } from './fixtures.js';
import { report } from './report.js';

const IDLE_MS = 2000;

/** CPU % (of one core) this process uses while it sleeps IDLE_MS. */
async function idleCpuPercent(): Promise<number> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await sleep(IDLE_MS);
  const used = process.cpuUsage(cpu);
  return (100 * (used.user + used.system)) / ((performance.now() - t) * 1000);
}

const { library } = await tickLibrary();
await sleep(200); // let start-up work (module loading, the build) settle
const noHost = await idleCpuPercent();
const host = await createIsolatedHost({ library, functions: TICK });
let afterStart: number;
let afterBurst: number;
try {
  // The host's first standby starts FIRST_STANDBY_DELAY_MS after it serves, a one-off
  // start (~100 ms of CPU), not idling: measured once it has started.
  await sleep(FIRST_STANDBY_DELAY_MS + 1000);
  afterStart = await idleCpuPercent();
  for (let i = 0; i < 100_000; i++) host.callSync('do_tick', i);
  await Promise.all(Array.from({ length: 10_000 }, (_, i) => host.call('do_tick', i)));
  afterBurst = await idleCpuPercent();
} finally {
  await host.close();
  await removeTempDirs();
}

report('idle-cpu', {
  idleMs: IDLE_MS,
  noHostCpuPercent: r3(noHost),
  idleHostCpuPercent: r3(afterStart),
  idleAfterBurstCpuPercent: r3(afterBurst),
  loadAvg1: r3(loadavg()[0]!),
  target: 'idleHostCpuPercent < 2 and idleAfterBurstCpuPercent < 2',
});
