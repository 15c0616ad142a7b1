import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { buildStateFixture, FIXTURE_FUNCTIONS, ISOLATIONS, hookLog, WORD, words , hostLoggingHooks } from './helpers/state-fixture.js';

after(removeTempDirs);

/** For assert.rejects: an IsoswapError with `code` whose details include `details`. */
const typed = (code: string, details: Record<string, unknown> = {}) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, String(err));
  assert.equal(err.code, code);
  for (const [key, value] of Object.entries(details)) assert.equal(err.details[key], value, key);
  return true;
};

for (const isolation of ISOLATIONS) {
  test(`a refusing version is never served; the block is as the old version left it, and the old version is re-attached (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildStateFixture({ k: 1 }, library);
    const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, isolation, state: { bytes: 1024 } });
    t.after(() => host.close());
    const errors: unknown[] = [];
    host.on('error', (err) => errors.push(err));
    const state = host.state!;
    for (let i = 0; i < 3; i++) await host.call('bump');
    const before = host.current;

    // Build 2 scribbles over the block in isoswap_load, then returns 7.
    await buildStateFixture({ k: 2, refuse: 7 }, library);
    const err = await host.reload().then(() => assert.fail('the refusing build was served'), (e: unknown) => e);
    assert.ok(err instanceof IsoswapError);
    assert.equal(err.code, 'ERR_LOAD_HOOK');
    assert.match(err.message, /libgame\.so/);
    assert.equal(err.details.result, 7);

    assert.deepEqual(host.current, before, 'current is unchanged');
    assert.equal(await host.call('version'), 1, 'the next call is answered by the old version');
    assert.equal(words(state)[WORD.counter], 3, 'the scribble was undone');
    assert.equal(words(state)[WORD.unloadStarted], 0);
    // The old version unloaded for the hand-over, the refusal was undone, and the old
    // version was loaded again: its hooks always alternate load, unload, load...
    assert.deepEqual(hookLog(state), [[1, 'load'], [1, 'unload'], [1, 'load']]);
    assert.equal(await host.call('bump'), 4, 're-attached: the old version has its pointer back and counts on');
    assert.deepEqual(host.history.map((v) => v.id), [before.id], 'the refused version is not in the history');
    assert.deepEqual(errors, [], 'reload() rejected: no error event on top');

    await buildStateFixture({ k: 3 }, library);
    await host.reload();
    assert.equal(await host.call('bump'), 5);
    await host.close();
    assert.deepEqual(hookLog(state), [[1, 'load'], [1, 'unload'], [1, 'load'], [1, 'unload'], [3, 'load'], [3, 'unload']],
      'the refused version never gets isoswap_unload');
  });
}

test('an old version that refuses to re-attach keeps serving (nothing else can), reported as an error event', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1, refuseReattach: 5 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, state: { bytes: 1024 } });
  t.after(() => host.close());
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  await buildStateFixture({ k: 2, refuse: 7 }, library);
  await assert.rejects(host.reload(), typed('ERR_LOAD_HOOK', { version: 2, result: 7 }));
  assert.equal(await host.call('version'), 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'ERR_LOAD_HOOK');
  assert.equal(errors[0]!.details.version, 1);
  assert.equal(errors[0]!.details.result, 5);
});

test('a refusing first version: createIsolatedHost rejects with ERR_LOAD_HOOK', async () => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1, refuse: 3 }, library);
  await assert.rejects(createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, state: { bytes: 64 } }),
    typed('ERR_LOAD_HOOK', { result: 3 }));
  await assert.rejects(createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS }), { code: 'ERR_LOAD_HOOK' });
});

test('without a state block a refusing version is refused too, and the old version is left alone', async (t) => {
  const { host, library, logFile } = await hostLoggingHooks(t);
  const before = host.current;
  await buildStateFixture({ k: 2, refuse: 9, logFile }, library);
  await assert.rejects(host.reload(), typed('ERR_LOAD_HOOK', { result: 9 }));
  assert.deepEqual(host.current, before);
  assert.equal(await host.call('version'), 1);
  await host.close();
  // No block, no pause: the old version served on while build 2 was asked, and it is
  // not unloaded and loaded again.
  assert.deepEqual((await readFile(logFile, 'utf8')).trim().split('\n'), ['load 1 1 0', 'load 2 1 0', 'unload 1 1 0']);
});
