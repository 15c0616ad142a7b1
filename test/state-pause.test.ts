import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createIsolatedHost, type SwapEvent } from '../src/index.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { buildStateFixture, FIXTURE_FUNCTIONS, ISOLATIONS, hookLog } from './helpers/state-fixture.js';

after(removeTempDirs);

for (const isolation of ISOLATIONS) {
  test(`calls made during the pause wait, and every one is answered by the new version (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildStateFixture({ k: 1 }, library);
    const threads = isolation === 'thread' ? 2 : 1; // a state block over several processes is refused
    const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, isolation, state: { bytes: 1024 }, threads });
    t.after(() => host.close());
    const state = host.state!;
    const swaps: SwapEvent[] = [];
    host.on('swap', (e) => swaps.push(e));

    await buildStateFixture({ k: 2 }, library);
    // A call in flight on build 1 keeps the pause open until the test lets it go: the old
    // version drains it first.
    const go = join(dirname(library), 'go');
    const inFlight = host.call('wait_file', go);
    let settled = false;
    let reached!: () => void;
    const beforeSwap = new Promise<void>((resolve) => { reached = resolve; });
    host.once('beforeSwap', () => reached());
    const reloading = host.reload().finally(() => { settled = true; });
    await beforeSwap;
    await sleep(1); // the listener returned: calls are held from the next turn on
    assert.ok(!settled, 'the swap ended before the test saw its pause');

    const answered: Array<{ x: number; result: number; newLoaded: boolean }> = [];
    const calls = Array.from({ length: 40 }, (_, x) => {
      const call = x % 2 === 0 ? host.call('do_tick', x) : host.fns.do_tick(x);
      return call.then((result: number) => {
        // When the answer arrives, the new version's isoswap_load has already run.
        answered.push({ x, result, newLoaded: hookLog(state).some(([k, e]) => k === 2 && e === 'load') });
      });
    });
    await writeFile(go, '');
    const to = await reloading;
    await Promise.all(calls);
    assert.equal(await inFlight, 1, 'the call in flight ran on build 1, before its isoswap_unload');

    assert.equal(to.id, 2);
    assert.equal(answered.length, 40, 'none dropped');
    for (const { x, result, newLoaded } of answered) {
      assert.equal(result, x + 2, `do_tick(${x}) answered by build 2`);
      assert.ok(newLoaded, `do_tick(${x}) answered after the hand-over`);
    }
    assert.deepEqual(hookLog(state), [[1, 'load'], [1, 'unload'], [2, 'load']]);
    assert.equal(swaps.length, 1);
    assert.equal(typeof swaps[0]!.pauseMs, 'number', 'with a block the swap event says how long calls waited');
    assert.ok(swaps[0]!.pauseMs! <= swaps[0]!.ms, 'the pause is part of the swap');
  });
}

test('calls in flight when the swap starts finish on the old version before its isoswap_unload', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, state: { bytes: 1024 }, threads: 2 });
  t.after(() => host.close());
  await buildStateFixture({ k: 2 }, library);
  // Thread isolation only: in process isolation each process has its own copy of the
  // library's globals and only the first one runs the hooks, so the second process would
  // hold no pointer to the block at all (reported to the lead).
  // One slow call per thread. The hooks run in the first thread, so without the drain the
  // unload would run after the short call and the long one would find no block (-1).
  const early = [host.call('slow_bump', 100_000), host.call('slow_bump', 400_000)];
  const reloading = host.reload();
  const results = await Promise.all(early);
  await reloading;
  assert.deepEqual([...results].sort(), [1, 2], 'both ran while build 1 was attached');
  assert.deepEqual(hookLog(host.state!), [[1, 'load'], [1, 'unload'], [2, 'load']]);
  assert.equal(await host.call('bump'), 3, 'build 2 counts on');
});

test('without a state block there is no pause: the swap event has no pauseMs', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS });
  t.after(() => host.close());
  const swaps: SwapEvent[] = [];
  host.on('swap', (e) => swaps.push(e));
  await buildStateFixture({ k: 2 }, library);
  await host.reload();
  assert.equal(swaps.length, 1);
  assert.equal(swaps[0]!.pauseMs, undefined);
});
