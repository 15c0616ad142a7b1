import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { buildStateFixture, FIXTURE_FUNCTIONS, ISOLATIONS, WORD, words } from './helpers/state-fixture.js';

after(removeTempDirs);

for (const isolation of ISOLATIONS) {
  test(`a counter in the state block keeps counting across swaps (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildStateFixture({ k: 1 }, library);
    const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, isolation, state: { bytes: 4096 } });
    t.after(() => host.close());

    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push(await host.call('bump'));
    for (const k of [2, 3]) {
      await buildStateFixture({ k }, library);
      await host.reload();
      assert.equal(await host.call('version'), k, `build ${k} serves`);
      for (let i = 0; i < 3; i++) seen.push(await host.call('bump'));
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(words(host.state!)[WORD.counter], 9, 'JavaScript sees the count');
  });
}

for (const isolation of ISOLATIONS) {
  test(`host.state is the very memory the library holds: writes cross both ways without a copy (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildStateFixture({ k: 1 }, library);
    const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, isolation, state: { bytes: 256 } });
    t.after(() => host.close());
    const state = host.state!;
    assert.ok(state instanceof Uint8Array);
    assert.equal(state.byteLength, 256);
    if (isolation === 'thread') assert.ok(state.buffer instanceof SharedArrayBuffer, 'thread isolation shares the memory');
    assert.equal(host.state, state, 'the same view every time, not a fresh copy');

    // The library reads through the pointer it kept from isoswap_load, not through an
    // argument of this call: a per-call copy would not see these writes.
    const w = words(state);
    w[40] = 123456;
    assert.equal(await host.call('peek', 40), 123456, 'a write from JS is seen natively');
    await host.call('poke', 41, -7);
    assert.equal(w[41], -7, 'a native write is seen from JS');

    await buildStateFixture({ k: 2 }, library);
    await host.reload();
    assert.equal(host.state, state, 'the block outlives the version');
    w[42] = 99;
    assert.equal(await host.call('peek', 42), 99);
    assert.equal(await host.call('peek', 40), 123456, 'what the old version saw is still there');
    await host.call('poke', 43, 5);
    assert.equal(w[43], 5);
  });
}

test('without `state` there is no block', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS });
  t.after(() => host.close());
  assert.equal(host.state, undefined);
  assert.equal(await host.call('bump'), -1, 'the hooks got NULL, so the library keeps no pointer');
});

test('state.bytes must be a positive integer', async () => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  for (const bytes of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, state: { bytes } }),
      { code: 'ERR_INVALID_OPTIONS' }, `bytes: ${bytes}`);
  }
});
