// The game loop never drops a frame (issue 12): callSync waits through a swap's hand-over
// (it finishes it itself) instead of throwing ERR_SWAP_IN_PROGRESS, within the swap's own
// deadlines; the guest is told its version and why it was loaded; beforeSwap.
import assert from 'node:assert/strict';
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost } from '../src/index.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { buildSectionFixture, SECTION_FUNCTIONS } from './helpers/section-fixture.js';

after(removeTempDirs);

const ISOLATIONS = ['thread', 'process'] as const;
const REBUILDS = 20;

/** Resolves once the swap has passed beforeSwap: calls are held from the next turn on. */
function pastBeforeSwap(host: IsolatedHost): Promise<void> {
  return new Promise((resolve) => host.once('beforeSwap', () => resolve()));
}

for (const isolation of ISOLATIONS) {
  test(`callSync during a hand-over finishes it and runs on the new version (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildSectionFixture({ k: 1 }, library);
    const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation, state: { bytes: 64 } });
    t.after(() => host.close());
    await buildSectionFixture({ k: 2 }, library);
    // A call in flight keeps the old version draining (1 s) while the event loop turns;
    // made from beforeSwap, so that it reaches version 1 however long the load took.
    let inFlight!: Promise<number>;
    host.once('beforeSwap', () => { inFlight = host.call('slow_frame', 1_000_000); });
    const reached = pastBeforeSwap(host);
    const reloading = host.reload();
    await reached;
    await sleep(1);
    assert.equal(host.current.id, 1, 'the hand-over is pending');
    assert.equal(host.callSync('frame'), 2, 'the call in flight ran first, on version 1; this one after it');
    assert.equal(host.current.id, 2, 'callSync finished the hand-over');
    assert.equal(host.callSync('build'), 2);
    assert.equal(await inFlight, 1);
    assert.equal((await reloading).id, 2);
  });

  test(`callSync waits at most drainTimeoutMs for the old version's calls, then ERR_SWAP_IN_PROGRESS (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildSectionFixture({ k: 1 }, library);
    const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation, drainTimeoutMs: 100 });
    t.after(() => host.close());
    host.on('error', () => {});
    await buildSectionFixture({ k: 2 }, library);
    let inFlight!: Promise<number>;
    host.once('beforeSwap', () => { inFlight = host.call('slow_frame', 1_500_000); });
    const reached = pastBeforeSwap(host);
    const reloading = host.reload();
    await reached;
    await sleep(1);
    assert.throws(() => host.callSync('frame'), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_SWAP_IN_PROGRESS');
    await assert.rejects(reloading, (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_DRAIN_TIMEOUT');
    assert.equal(await inFlight, 1);
    assert.equal(host.callSync('frame'), 2, 'version 1 serves on');
  });

  test(`a callSync loop under watch through ${REBUILDS} rebuilds: every frame runs exactly once, none is refused (${isolation})`, async (t) => {
    const dir = await makeTempDir();
    const library = join(dir, 'libgame.so');
    // Two builds, saved in turn as a linker saves (side file, then rename): every save is
    // a new build to the watcher, without 20 compilations.
    const builds = await Promise.all([1, 2].map((k) => buildSectionFixture({ k }, join(dir, `build${k}.so`))));
    await copyFile(builds[0]!, library);
    const save = async (k: number): Promise<void> => {
      await copyFile(builds[(k + 1) % 2]!, `${library}.tmp`);
      await rename(`${library}.tmp`, library);
    };
    const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation, watch: true, state: { bytes: 64 } });
    t.after(() => host.close());
    let swaps = 0;
    host.on('swap', () => { swaps++; });
    let frames = 0;
    let ticks = 0;
    let ticked = 0;
    let finishedByCallSync = 0;
    let rebuilding: Promise<unknown> | null = null;
    let built = 1;
    while (swaps < REBUILDS) {
      if (rebuilding === null && swaps === built - 1) rebuilding = save(++built).finally(() => { rebuilding = null; });
      const before = host.current.id;
      const counted = host.callSync('frame'); // throws on any refusal: the test fails
      if (host.current.id !== before) finishedByCallSync++;
      assert.equal(counted, ++frames, 'the native count is the loop count: no frame lost or run twice');
      // Async calls too, so that swaps find calls in flight and the hand-over waits.
      ticks++;
      void host.call('tick').then(() => { ticked++; });
      await nextTurn();
    }
    while (ticked < ticks) await nextTurn();
    assert.equal(host.callSync('ticks'), ticks, 'every async call ran exactly once too');
    assert.equal(host.callSync('second'), 2 * frames, 'the second counter too');
    assert.equal(host.current.id, REBUILDS + 1);
    t.diagnostic(`${frames} frames, ${finishedByCallSync} hand-overs finished by callSync`);
  });
}

test('the guest is told its version and why: first load, reload, rollback, restart after a crash (process)', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildSectionFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  host.on('error', () => {});
  const told = async (): Promise<number[]> => [
    await host.call('info_version'), await host.call('info_reason'), await host.call('info_failure'), await host.call('info_previous')];
  assert.deepEqual(await told(), [1, 0, 0, 0], 'version 1, first load');
  await buildSectionFixture({ k: 2 }, library);
  await host.reload();
  assert.deepEqual(await told(), [2, 1, 0, 1], 'version 2, reload from 1');
  await buildSectionFixture({ k: 3 }, library);
  await host.reload();
  assert.deepEqual(await told(), [3, 1, 0, 2]);
  await host.rollback();
  assert.deepEqual(await told(), [4, 2, 0, 3], 'version 4, a rollback from 3');
  const restarted = new Promise((resolve) => host.once('swap', resolve));
  assert.throws(() => host.callSync('crash'), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_VERSION_CRASHED');
  await restarted;
  assert.deepEqual(await told(), [5, 3, 1, 4], 'version 5, a restart after version 4 died of a segfault');
  assert.equal(await host.call('build'), 2);
});

test('a refused new version: the old one is loaded again and told so (reattach)', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildSectionFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS });
  t.after(() => host.close());
  await buildSectionFixture({ k: 2, refuse: 9 }, library);
  await assert.rejects(host.reload(), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_LOAD_HOOK');
  assert.equal(await host.call('info_reason'), 4);
  assert.equal(await host.call('info_previous'), 2, 'after version 2 refused');
});

test('beforeSwap runs before the old version unloads, can delay it, and its deadline holds', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildSectionFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, hookTimeoutMs: 300 });
  t.after(() => host.close());
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  await host.call('frame');

  let release!: () => void;
  const flushed = new Promise<void>((resolve) => { release = resolve; });
  let seen: { from: number; to: number; reason: string } | undefined;
  let stillOld = 0;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the swap awaits a beforeSwap listener's promise
  host.once('beforeSwap', async ({ from, to, reason }) => {
    seen = { from: from.id, to: to.id, reason };
    stillOld = await host.call('build'); // the old version still serves, nothing is held
    await flushed;
  });
  await buildSectionFixture({ k: 2 }, library);
  let swapped = false;
  const reloading = host.reload().then((v) => { swapped = true; return v; });
  while (seen === undefined) await nextTurn();
  for (let i = 0; i < 20; i++) await nextTurn();
  assert.equal(swapped, false, 'the swap waits for the listener');
  assert.equal(host.current.id, 1);
  assert.equal(await host.call('frame'), 2, 'version 1 still serves, its section untouched');
  release();
  await reloading;
  assert.deepEqual(seen, { from: 1, to: 2, reason: 'reload' });
  assert.equal(stillOld, 1);
  assert.equal(await host.call('frame'), 3, 'the section was taken after the listener, not before');

  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the swap awaits a beforeSwap listener's promise
  host.once('beforeSwap', () => new Promise<never>(() => {})); // never settles
  await buildSectionFixture({ k: 3 }, library);
  const v3 = await host.reload();
  assert.equal(v3.id, 3, 'past hookTimeoutMs the swap goes on');
  assert.ok(errors.some((e) => e.code === 'ERR_HOOK_TIMEOUT'), 'and says so');
});
