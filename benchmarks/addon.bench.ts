// A Node-API addon's call, one at a time, p50/p99 in µs: through createAddonHost (await
// exports.tick, and callSync; thread and process isolation) beside a direct call of the
// addon in this thread and a plain worker that loaded it and answers postMessage.
import { Worker } from 'node:worker_threads';
import { createAddonHost, type Isolation } from '../src/index.js';
import { buildAddon, type TestAddon } from '../test/helpers/addon.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { r3, sampleSyncUs, sampleUs } from './fixtures.js';
import { percentile, report } from './report.js';

const N = 10_000;
const WARM = 1_000;
const figures: Record<string, number> = {};
const put = (name: string, samples: number[], per = 1): void => {
  figures[`${name}P50Us`] = r3(percentile(samples, 50) / per);
  figures[`${name}P99Us`] = r3(percentile(samples, 99) / per);
};

// Each load gets its own file: Node registers an addon once per thread and path.
const addonFile = (): Promise<string> => buildAddon(1);

// In this thread: a batch timed as one (a single call is shorter than the clock read).
const direct = { exports: {} as TestAddon };
process.dlopen(direct, await addonFile());
const BATCH = 1000;
put('direct', await sampleUs(2_000, 200, () => { for (let i = 0; i < BATCH; i++) direct.exports.tick(i); }), BATCH);

// A plain worker: dlopen, then tick(message) answered with postMessage.
const worker = new Worker(`
  const { parentPort, workerData } = require('node:worker_threads');
  const m = { exports: {} };
  process.dlopen(m, workerData);
  parentPort.on('message', (x) => parentPort.postMessage(m.exports.tick(x)));
  parentPort.postMessage('ready');`, { eval: true, workerData: await addonFile() });
await new Promise((resolve) => worker.once('message', resolve));
const roundTrip = (x: number): Promise<unknown> => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage(x); });
put('postMessage', await sampleUs(N, WARM, roundTrip));
await worker.terminate();

for (const isolation of ['thread', 'process'] as Isolation[]) {
  const addon = await createAddonHost<TestAddon>({ addon: await addonFile(), isolation });
  try {
    put(`${isolation}Call`, await sampleUs(N, WARM, (i) => addon.exports.tick(i)));
    put(`${isolation}CallSync`, sampleSyncUs(N, WARM, (i) => addon.callSync('tick', i)));
  } finally {
    await addon.close();
  }
}
await removeTempDirs();

report('addon', {
  ...figures,
  threadCallVsPostMessage: r3(figures['threadCallP50Us']! / figures['postMessageP50Us']!),
  threadCallSyncVsPostMessage: r3(figures['threadCallSyncP50Us']! / figures['postMessageP50Us']!),
  processCallVsPostMessage: r3(figures['processCallP50Us']! / figures['postMessageP50Us']!),
  threadCallVsDirect: r3(figures['threadCallP50Us']! / figures['directP50Us']!),
});
