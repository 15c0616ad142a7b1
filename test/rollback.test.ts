import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { buildStateFixture, FIXTURE_FUNCTIONS, ISOLATIONS } from './helpers/state-fixture.js';

after(removeTempDirs);

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const noRollback = (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, String(err));
  assert.equal(err.code, 'ERR_NO_ROLLBACK');
  assert.match(err.message, /libgame\.so/);
  return true;
};

for (const isolation of ISOLATIONS) {
  test(`rollback serves the previous build from its kept bytes after the file on disk changed; the state is intact (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildStateFixture({ k: 1 }, library);
    const build1 = sha256(await readFile(library));
    const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, isolation, state: { bytes: 1024 } });
    t.after(() => host.close());
    await host.call('bump');

    await buildStateFixture({ k: 2 }, library);
    const v2 = await host.reload();
    await host.call('bump');
    // A third build lands on disk but is not loaded: rollback must not pick it up.
    await buildStateFixture({ k: 3 }, library);
    const build3 = sha256(await readFile(library));

    const back = await host.rollback();
    assert.equal(back.sha256, build1, 'the bytes of build 1');
    assert.equal(sha256(await readFile(back.copy)), build1, 'its private copy holds exactly those bytes');
    assert.equal(back.sourceId, 1);
    assert.equal(back.id, 3, 'a new version, serving an earlier build');
    assert.deepEqual(host.current, back);
    assert.equal(await host.call('version'), 1, 'build 1 behaves as build 1');
    assert.equal(await host.call('do_tick', 10), 11);
    assert.equal(await host.call('bump'), 3, 'the count went on through the rollback');
    assert.equal(sha256(await readFile(library)), build3, 'the file on disk is left alone');
    assert.equal(host.history.find((v) => v.id === v2.id)?.status, 'rolled-back');

    const v4 = await host.reload();
    assert.equal(v4.sha256, build3, 'reload() still takes what is on disk');
    assert.equal(await host.call('version'), 3);
  });
}

test('rollback with no earlier version rejects with ERR_NO_ROLLBACK and the current version serves on', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, state: { bytes: 64 } });
  t.after(() => host.close());
  const errors: unknown[] = [];
  host.on('error', (err) => errors.push(err));
  const before = host.current;
  await assert.rejects(host.rollback(), noRollback);
  assert.deepEqual(host.current, before);
  assert.equal(await host.call('bump'), 1, 'still attached: no hook ran');

  // Reloading the same bytes makes a new version of the same build: still nothing to go back to.
  await host.reload();
  await assert.rejects(host.rollback(), noRollback);
  assert.equal(await host.call('version'), 1);
  assert.deepEqual(errors, [], 'rollback() rejected: no error event on top');
});

test('rollback does not bounce back to the version it rolled back from', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS });
  t.after(() => host.close());
  await buildStateFixture({ k: 2 }, library);
  await host.reload();
  await buildStateFixture({ k: 3 }, library);
  await host.reload();
  assert.equal((await host.rollback()).sourceId, 2);
  assert.equal(await host.call('version'), 2);
  assert.equal((await host.rollback()).sourceId, 1, 'the second rollback goes further back, not to build 3');
  assert.equal(await host.call('version'), 1);
  await assert.rejects(host.rollback(), noRollback);
});

test('only `keepBuilds` earlier builds keep their bytes', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, keepBuilds: 1 });
  t.after(() => host.close());
  for (const k of [2, 3]) {
    await buildStateFixture({ k }, library);
    await host.reload();
  }
  assert.equal((await host.rollback()).sourceId, 2, 'one earlier build is kept');
  await assert.rejects(host.rollback(), noRollback, 'build 1 was let go when build 3 came');
  assert.equal(await host.call('version'), 2);
});
