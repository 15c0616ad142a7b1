// An addon export on the shared-memory ring, one call at a time, p50/p99 in µs: a number
// argument (`tick`) and a short Buffer (`checksum` of 16 bytes), await and callSync, thread
// and process isolation; beside, in the same run, the direct call in this thread and a
// library function on the ring (`do_tick`, the same work as `tick`).
import { createAddonHost, createIsolatedHost, type Isolation } from '../src/index.js';
import { buildAddon, type TestAddon } from '../test/helpers/addon.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { r3, sampleSyncUs, sampleUs, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';

const N = 10_000;
const WARM = 1_000;
const SHORT = Buffer.from('0123456789abcdef');
const figures: Record<string, number> = {};
const put = (name: string, samples: number[], per = 1): void => {
  figures[`${name}P50Us`] = r3(percentile(samples, 50) / per);
  figures[`${name}P99Us`] = r3(percentile(samples, 99) / per);
};

// In this thread: a batch timed as one (a single call is shorter than the clock read).
const direct = { exports: {} as TestAddon };
process.dlopen(direct, await buildAddon(1));
const BATCH = 1000;
put('directNumber', await sampleUs(2_000, 200, () => { for (let i = 0; i < BATCH; i++) direct.exports.tick(i); }), BATCH);
put('directBuffer', await sampleUs(2_000, 200, () => { for (let i = 0; i < BATCH; i++) direct.exports.checksum(SHORT); }), BATCH);

const { library } = await tickLibrary();
for (const isolation of ['thread', 'process'] as Isolation[]) {
  const host = await createIsolatedHost({ library, functions: TICK, isolation });
  try {
    put(`${isolation}LibraryRing`, await sampleUs(N, WARM, (i) => host.call('do_tick', i)));
  } finally {
    await host.close();
  }
  const addon = await createAddonHost<TestAddon>({ addon: await buildAddon(1), isolation });
  try {
    put(`${isolation}Number`, await sampleUs(N, WARM, (i) => addon.exports.tick(i)));
    put(`${isolation}Buffer`, await sampleUs(N, WARM, () => addon.exports.checksum(SHORT)));
    put(`${isolation}NumberSync`, sampleSyncUs(N, WARM, (i) => addon.callSync('tick', i)));
    put(`${isolation}BufferSync`, sampleSyncUs(N, WARM, () => addon.callSync('checksum', SHORT)));
  } finally {
    await addon.close();
  }
}
await removeTempDirs();

report('addon-ring', {
  ...figures,
  threadNumberVsLibraryRing: r3(figures['threadNumberP50Us']! / figures['threadLibraryRingP50Us']!),
  processNumberVsLibraryRing: r3(figures['processNumberP50Us']! / figures['processLibraryRingP50Us']!),
});
