import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { buildStateFixture, FIXTURE_FUNCTIONS, ISOLATIONS, hookLog , hostLoggingHooks } from './helpers/state-fixture.js';

after(removeTempDirs);

for (const isolation of ISOLATIONS) {
  test(`with a state block, hooks run once per version, in order: load v1, unload v1, load v2 ... unload vN at close (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildStateFixture({ k: 1 }, library);
    // Two threads per version: the hooks still run once per version, not once per thread.
    // (A state block over several processes is refused: see the errors table.)
    const threads = isolation === 'thread' ? 2 : 1;
    const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, isolation, state: { bytes: 1024 }, threads });
    t.after(() => host.close());
    const state = host.state!;
    assert.deepEqual(hookLog(state), [[1, 'load']]);

    const expected: Array<[number, 'load' | 'unload']> = [[1, 'load']];
    for (const k of [2, 3, 4]) {
      await buildStateFixture({ k }, library);
      await host.reload();
      expected.push([k - 1, 'unload'], [k, 'load']);
      // The old version's unload and the new one's load both ran before reload() resolved.
      assert.deepEqual(hookLog(state), expected, `after the swap to build ${k}`);
      await Promise.all([host.call('bump'), host.call('bump'), host.call('bump')]);
    }
    await host.close();
    expected.push([4, 'unload']);
    assert.deepEqual(hookLog(state), expected, 'the last version unloads at close, and nothing runs twice');
  });
}

test('a rollback loads the earlier build again as a new version: its hooks run again, in order', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, state: { bytes: 1024 } });
  t.after(() => host.close());
  const state = host.state!;
  await buildStateFixture({ k: 2 }, library);
  await host.reload();
  await host.rollback();
  assert.deepEqual(hookLog(state), [[1, 'load'], [1, 'unload'], [2, 'load'], [2, 'unload'], [1, 'load']]);
  await host.close();
  assert.deepEqual(hookLog(state).at(-1), [1, 'unload']);
});

test('without a state block the hooks still run, with NULL and 0; the new version loads before the old one unloads', async (t) => {
  const { host, library, logFile } = await hostLoggingHooks(t);
  for (const k of [2, 3]) {
    await buildStateFixture({ k, logFile }, library);
    const retired = once(host, 'retired');
    await host.reload();
    await retired;
    assert.equal(await host.call('version'), k);
  }
  await host.close();
  const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
  // "<hook> <build> <state == NULL> <bytes>"
  assert.deepEqual(lines, [
    'load 1 1 0',
    'load 2 1 0', 'unload 1 1 0',
    'load 3 1 0', 'unload 2 1 0',
    'unload 3 1 0',
  ]);
});
