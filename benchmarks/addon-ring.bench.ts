// An addon export on the shared-memory ring, one call at a time, p50/p99 in µs: a number
// argument (`tick`) and a short Buffer (`checksum` of 16 bytes), await and callSync, thread
// and process isolation; beside, in the same run, the direct call in this thread and a
// library function on the ring (`do_tick`, the same work as `tick`). Then the awaited
// figures again while a build runs (one C compile loop per core, build-load.ts), keys
// prefixed `loaded`, beside the same baselines and a plain postMessage round trip measured
// under that same load, the paths taking turns in short rounds.
import { createAddonHost, createIsolatedHost, type Isolation } from '../src/index.js';
import { buildAddon, type TestAddon } from '../test/helpers/addon.js';
import { underBuildLoad } from '../test/helpers/build-load.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { echoWorker, r3, roundTrip, sampleSyncUs, sampleUs, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';

const N = 10_000;
const WARM = 1_000;
const LOADED_ROUNDS = 6;
const LOADED_N = 2_000;
const LOADED_WARM = 200;
const SHORT = Buffer.from('0123456789abcdef');
const BATCH = 1000;

/** µs per call of `fn` run BATCH times in a row, timed as one (a single call in this thread
 *  is shorter than the clock read). */
const batched = (fn: (i: number) => unknown) => (): void => { for (let i = 0; i < BATCH; i++) fn(i); };

/** p50/p99 of `samples` (µs per sample, `per` calls each) under `name`. */
function put(figures: Record<string, number>, name: string, samples: number[], per = 1): void {
  figures[`${name}P50Us`] = r3(percentile(samples, 50) / per);
  figures[`${name}P99Us`] = r3(percentile(samples, 99) / per);
}

/** The quiet figures, each path measured in turn. */
async function quietFigures(library: string): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const direct = { exports: {} as TestAddon };
  process.dlopen(direct, await buildAddon(1));
  put(figures, 'directNumber', await sampleUs(2_000, 200, batched((i) => direct.exports.tick(i))), BATCH);
  put(figures, 'directBuffer', await sampleUs(2_000, 200, batched(() => direct.exports.checksum(SHORT))), BATCH);
  for (const isolation of ['thread', 'process'] as Isolation[]) {
    const host = await createIsolatedHost({ library, functions: TICK, isolation });
    try {
      put(figures, `${isolation}LibraryRing`, await sampleUs(N, WARM, (i) => host.call('do_tick', i)));
    } finally {
      await host.close();
    }
    const addon = await createAddonHost<TestAddon>({ addon: await buildAddon(1), isolation });
    try {
      put(figures, `${isolation}Number`, await sampleUs(N, WARM, (i) => addon.exports.tick(i)));
      put(figures, `${isolation}Buffer`, await sampleUs(N, WARM, () => addon.exports.checksum(SHORT)));
      put(figures, `${isolation}NumberSync`, sampleSyncUs(N, WARM, (i) => addon.callSync('tick', i)));
      put(figures, `${isolation}BufferSync`, sampleSyncUs(N, WARM, () => addon.callSync('checksum', SHORT)));
    } finally {
      await addon.close();
    }
  }
  return figures;
}

/** The awaited figures while a build runs: every path open at once, taking turns round by
 *  round so that each meets the same mix of compiles; samples pooled over the rounds. */
async function loadedFigures(library: string): Promise<Record<string, number>> {
  const direct = { exports: {} as TestAddon };
  process.dlopen(direct, await buildAddon(1));
  const echo = await echoWorker(library);
  const rings = { thread: await createIsolatedHost({ library, functions: TICK }), process: await createIsolatedHost({ library, functions: TICK, isolation: 'process' }) };
  const addons = {
    thread: await createAddonHost<TestAddon>({ addon: await buildAddon(1) }),
    process: await createAddonHost<TestAddon>({ addon: await buildAddon(1), isolation: 'process' }),
  };
  try {
    const paths: Record<string, { fn: (i: number) => unknown; per: number }> = {
      directNumber: { fn: batched((i) => direct.exports.tick(i)), per: BATCH },
      directBuffer: { fn: batched(() => direct.exports.checksum(SHORT)), per: BATCH },
      postMessage: { fn: (i) => roundTrip(echo, i), per: 1 },
    };
    for (const isolation of ['thread', 'process'] as const) {
      paths[`${isolation}LibraryRing`] = { fn: (i) => rings[isolation].call('do_tick', i), per: 1 };
      paths[`${isolation}Number`] = { fn: (i) => addons[isolation].exports.tick(i), per: 1 };
      paths[`${isolation}Buffer`] = { fn: () => addons[isolation].exports.checksum(SHORT), per: 1 };
    }
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
    for (let round = 0; round < LOADED_ROUNDS; round++) {
      for (const [name, { fn }] of Object.entries(paths)) samples[name]!.push(...await sampleUs(LOADED_N, LOADED_WARM, fn));
    }
    const figures: Record<string, number> = {};
    for (const [name, { per }] of Object.entries(paths)) put(figures, `loaded${name[0]!.toUpperCase()}${name.slice(1)}`, samples[name]!, per);
    return figures;
  } finally {
    for (const host of [rings.thread, rings.process, addons.thread, addons.process]) await host.close();
    await echo.terminate();
  }
}

let quiet: Record<string, number>;
let loaded: Record<string, number>;
let loadLoops: number;
try {
  const { library } = await tickLibrary();
  quiet = await quietFigures(library);
  ({ result: loaded, loops: loadLoops } = await underBuildLoad(() => loadedFigures(library)));
} finally {
  await removeTempDirs();
}

report('addon-ring', {
  ...quiet,
  threadNumberVsLibraryRing: r3(quiet['threadNumberP50Us']! / quiet['threadLibraryRingP50Us']!),
  processNumberVsLibraryRing: r3(quiet['processNumberP50Us']! / quiet['processLibraryRingP50Us']!),
  loadLoops,
  loadedRounds: LOADED_ROUNDS,
  loadedSamplesPerRound: LOADED_N,
  ...loaded,
  loadedThreadNumberVsLibraryRing: r3(loaded['loadedThreadNumberP50Us']! / loaded['loadedThreadLibraryRingP50Us']!),
  loadedProcessNumberVsLibraryRing: r3(loaded['loadedProcessNumberP50Us']! / loaded['loadedProcessLibraryRingP50Us']!),
  loadedThreadNumberVsPostMessage: r3(loaded['loadedThreadNumberP50Us']! / loaded['loadedPostMessageP50Us']!),
  loadedProcessNumberVsPostMessage: r3(loaded['loadedProcessNumberP50Us']! / loaded['loadedPostMessageP50Us']!),
});
