// RSS growth over 300 swaps (each: copy, load, validate, serve, then the old version
// drains, unloads, its thread ends and its copy is removed), with calls between swaps.
// Beside it, the growth of as many plain worker threads started and ended by hand.
// Each side runs in a fresh process of its own: run one after the other in one process,
// the second one found glibc's arenas already grown by the first and looked cheaper.
// Growth is measured after 30 warm-up rounds (heaps reach their working size), in total
// and per 50 rounds, as the least-squares slope of a reading every 10 rounds: single
// readings swing by several MB (glibc arenas trimmed or not, the live workers' heaps),
// which end-minus-start figures took for growth. Each reading is taken once no other
// thread runs, after full GCs with a turn between them (so that finalizers run), and
// without one (read just before: what a program that never forces one sees). The main isolate's V8 heap (resident) is reported apart: V8 grows its young
// generation with the allocation rate of the calls, up to a bound, which is no retention.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createIsolatedHost } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { echoWorker, r3, roundTrip, TICK, tickLibrary } from './fixtures.js';
import { report } from './report.js';

const WARM = 30;
const SWAPS = 300;
const WINDOW = 50;
const READ_EVERY = 10;
const mb = (bytes: number): number => r3(bytes / 2 ** 20);

interface Reading { raw: number; gc: number; v8: number }
interface Part { readings: Reading[]; msPerRound: number }

/** Threads of this process other than this one that are running or waiting for a core. */
function othersRunning(): number {
  let running = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    if (Number(tid) === process.pid) continue;
    try {
      // state is the field after the parenthesised name (which may hold spaces)
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'R') running++;
    } catch {
      // the thread ended meanwhile
    }
  }
  return running;
}

/** Waits (at most 10 s) until no other thread ran for 5 polls in a row: the standby that
 *  the last swap started has warmed up, the old version's thread has ended. Read while
 *  one is starting, a reading swung by ±6 MB (its heap, half built). */
async function quiet(): Promise<void> {
  const end = performance.now() + 10_000;
  for (let calm = 0; calm < 5 && performance.now() < end;) {
    await sleep(20);
    calm = othersRunning() === 0 ? calm + 1 : 0;
  }
}

/** RSS as it is (no forced GC), and after full GCs: RSS and the main V8 heap's resident
 *  size (heapTotal counts pages V8 reserved and never touched). */
async function read(): Promise<Reading> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await quiet();
  const raw = process.memoryUsage().rss;
  for (let i = 0; i < 3; i++) {
    gc();
    await turn();
  }
  return { raw, gc: process.memoryUsage().rss, v8: getHeapStatistics().total_physical_size };
}

/** Runs `round` WARM + SWAPS times; a reading after the warm-up and every READ_EVERY rounds. */
async function measure(round: (i: number) => Promise<void>): Promise<Part> {
  const readings: Reading[] = [];
  const started = performance.now();
  for (let i = 1; i <= WARM + SWAPS; i++) {
    await round(i);
    if (i >= WARM && (i - WARM) % READ_EVERY === 0) readings.push(await read());
  }
  return { readings, msPerRound: (performance.now() - started) / (WARM + SWAPS) };
}

/** One side, in this process: plain worker churn, or swaps of a host. */
async function part(side: string): Promise<Part> {
  const { library } = await tickLibrary();
  try {
    if (side === 'churn') {
      // What each swap does once: a thread started (koffi, dlopen, one call) and ended.
      return await measure(async (i) => {
        const worker = await echoWorker(library);
        await roundTrip(worker, i);
        await worker.terminate();
      });
    }
    const host = await createIsolatedHost({ library, functions: TICK });
    try {
      return await measure(async (i) => {
        await host.reload();
        await Promise.all(Array.from({ length: 64 }, (_, x) => host.call('do_tick', x)));
        host.callSync('do_tick', i);
      });
    } finally {
      await host.close();
    }
  } finally {
    await removeTempDirs();
  }
}

if (process.argv[2] !== undefined) {
  console.log(JSON.stringify(await part(process.argv[2])));
} else {
  const run = (side: string): Part => {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), side], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
    if (child.status !== 0 || line === undefined) throw new Error(`swap-rss ${side}: exit ${child.status ?? child.signal}`);
    return JSON.parse(line) as Part;
  };
  const swaps = run('swaps');
  const churn = run('churn');
  /** Bytes per round of `key` over `readings` (least squares), times `rounds`. */
  const fit = (readings: Reading[], key: keyof Reading, rounds: number): number => {
    const n = readings.length;
    const meanX = (n - 1) / 2;
    const meanY = readings.reduce((sum, r) => sum + r[key], 0) / n;
    let sxy = 0;
    let sxx = 0;
    readings.forEach((r, x) => { sxy += (x - meanX) * (r[key] - meanY); sxx += (x - meanX) ** 2; });
    return (sxy / sxx / READ_EVERY) * rounds;
  };
  const growth = ({ readings }: Part, key: keyof Reading): number => fit(readings, key, SWAPS);
  const perWindow = WINDOW / READ_EVERY;
  const windows = ({ readings }: Part): number[] => Array.from({ length: SWAPS / WINDOW },
    (_, w) => mb(fit(readings.slice(w * perWindow, (w + 1) * perWindow + 1), 'gc', WINDOW)));
  report('swap-rss', {
    swaps: SWAPS,
    growthOverSwapsMB: mb(growth(swaps, 'gc')),
    plainWorkerChurnGrowthMB: mb(growth(churn, 'gc')),
    growthVsPlainWorkerChurn: r3(growth(swaps, 'gc') / growth(churn, 'gc')),
    growthOverSwapsNoGcMB: mb(growth(swaps, 'raw')),
    plainWorkerChurnGrowthNoGcMB: mb(growth(churn, 'raw')),
    growthVsPlainWorkerChurnNoGc: r3(growth(swaps, 'raw') / growth(churn, 'raw')),
    growthPer50SwapsMB: windows(swaps),
    growthPer50WorkersMB: windows(churn),
    v8HeapGrowthOverSwapsMB: mb(growth(swaps, 'v8')),
    v8HeapGrowthChurnMB: mb(growth(churn, 'v8')),
    nativeGrowthOverSwapsMB: mb(growth(swaps, 'gc') - growth(swaps, 'v8')),
    nativeGrowthChurnMB: mb(growth(churn, 'gc') - growth(churn, 'v8')),
    endMinusStartMB: mb(swaps.readings.at(-1)!.gc - swaps.readings[0]!.gc),
    churnEndMinusStartMB: mb(churn.readings.at(-1)!.gc - churn.readings[0]!.gc),
    rssAfterWarmMB: mb(swaps.readings[0]!.gc),
    churnRssAfterWarmMB: mb(churn.readings[0]!.gc),
    msPerSwap: r3(swaps.msPerRound),
    loadAvg1: r3(loadavg()[0]!),
    target: 'growthOverSwapsMB and growthOverSwapsNoGcMB <= 10, and <= 2x plain worker churn',
  });
}
