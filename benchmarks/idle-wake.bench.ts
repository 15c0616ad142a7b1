// The first call after idle, p50/p99 in µs: `host.callSync` and `await host.call` after
// 16 ms of idle (a 60 Hz frame), both isolations, beside the machine's own wake-up measured
// in the same run: a worker blocked in Atomics.wait (and one parked in Atomics.waitAsync)
// notified after the same idle, answering through a word the main thread spins on. Then the
// whole set again while a build runs (one C compile loop per core, build-load.ts), keys
// prefixed `loaded`, each beside the bare wake-up measured under that same load.
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { createIsolatedHost, type Isolation } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { underBuildLoad } from '../test/helpers/build-load.js';
import { r3, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';

const N = 150;
const IDLE_MS = 16;
/** The figure's key: `name`, or under load `loaded` + `Name`. */
const key = (prefix: '' | 'loaded', name: string): string =>
  (prefix === '' ? name : `${prefix}${name[0]!.toUpperCase()}${name.slice(1)}`);
const p50p99 = (samples: number[]): [number, number] => [r3(percentile(samples, 50)), r3(percentile(samples, 99))];

const FRAME_MS = 1000 / 60;

/** µs of `fn` (awaited) each time after IDLE_MS of idle, or at the start of each 60 Hz frame. */
async function afterIdle(fn: () => unknown, paced = false): Promise<number[]> {
  const samples: number[] = [];
  let frame = performance.now();
  for (let i = 0; i < N + 5; i++) {
    frame += FRAME_MS;
    await sleep(paced ? Math.max(0, frame - performance.now()) : IDLE_MS);
    const t = process.hrtime.bigint();
    await fn();
    if (i >= 5) samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return samples;
}

/** A worker that sleeps on word 0 (Atomics.wait, or waitAsync) and answers in word 1. */
async function bareWake(asynchronous: boolean): Promise<number[]> {
  const words = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(`
    const { workerData: w, parentPort } = require('node:worker_threads');
    let seen = 0;
    const answer = () => { seen = Atomics.load(w, 0); Atomics.store(w, 1, seen); };
    if (${asynchronous}) {
      const park = () => Atomics.waitAsync(w, 0, seen).value.then(() => { answer(); park(); });
      parentPort.on('message', () => {}); // a pending waitAsync alone does not keep a thread alive
      park();
    } else {
      parentPort.once('message', () => { for (;;) { Atomics.wait(w, 0, seen); answer(); } });
    }
    parentPort.postMessage('ready');`, { eval: true, workerData: words });
  await new Promise((resolve) => worker.once('message', resolve));
  worker.postMessage('go');
  await sleep(10);
  let k = 0;
  const samples = await afterIdle(() => {
    Atomics.store(words, 0, ++k);
    Atomics.notify(words, 0);
    while (Atomics.load(words, 1) !== k);
  });
  await worker.terminate();
  return samples;
}

/** Every figure of this bench, keys prefixed by `prefix`, and each p50's ratio to the bare
 *  Atomics.wait wake-up p50 measured in the same conditions. */
async function measure(prefix: '' | 'loaded', library: string): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const put = (name: string, samples: number[]): void => {
    [figures[`${key(prefix, name)}P50Us`], figures[`${key(prefix, name)}P99Us`]] = p50p99(samples);
  };
  put('bareWait', await bareWake(false));
  put('bareWaitAsync', await bareWake(true));
  for (const isolation of ['thread', 'process'] as Isolation[]) {
    const host = await createIsolatedHost({ library, functions: TICK, isolation });
    try {
      for (let i = 0; i < 1000; i++) host.callSync('do_tick', i);
      put(`${isolation}CallSync`, await afterIdle(() => host.callSync('do_tick', 1)));
      put(`${isolation}Call`, await afterIdle(() => host.call('do_tick', 1)));
      put(`${isolation}CallSyncFrame60`, await afterIdle(() => host.callSync('do_tick', 1), true));
      put(`${isolation}CallFrame60`, await afterIdle(() => host.call('do_tick', 1), true));
    } finally {
      await host.close();
    }
  }
  const p50 = (name: string): number => figures[`${key(prefix, name)}P50Us`]!;
  for (const name of ['threadCallSync', 'processCallSync', 'threadCall', 'processCall', 'threadCallSyncFrame60', 'processCallSyncFrame60']) {
    figures[`${key(prefix, name)}VsBare`] = r3(p50(name) / p50('bareWait'));
  }
  return figures;
}

const targets = (bare: number): string =>
  `callSync p50 <= 1.5 x bareWait + 10 (${r3(1.5 * bare + 10)}), call p50 <= 2 x bareWait + 20 (${r3(2 * bare + 20)})`;

let quiet: Record<string, number>;
let loaded: Record<string, number>;
let loadLoops: number;
try {
  const { library } = await tickLibrary();
  quiet = await measure('', library);
  ({ result: loaded, loops: loadLoops } = await underBuildLoad(() => measure('loaded', library)));
} finally {
  await removeTempDirs();
}

report('idle-wake', {
  idleMs: IDLE_MS,
  samples: N,
  ...quiet,
  targets: targets(quiet['bareWaitP50Us']!),
  loadLoops,
  ...loaded,
  loadedTargets: targets(loaded['loadedBareWaitP50Us']!),
});
