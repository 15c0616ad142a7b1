import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, type IsolatedHost, type SwapEvent, type VersionInfo } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';
import { buildStateFixture, FIXTURE_FUNCTIONS } from './helpers/state-fixture.js';

after(removeTempDirs);

/** The ids of the versions that emitted `retired`, and a wait for some of them. */
function trackRetired(host: IsolatedHost): { until(ids: number[]): Promise<void> } {
  const seen = new Set<number>();
  host.on('retired', (v) => seen.add(v.id));
  return {
    async until(ids) {
      while (!ids.every((id) => seen.has(id))) await once(host, 'retired');
    },
  };
}

const brief = (history: VersionInfo[]) => history.map(({ id, status, sourceId }) => ({ id, status, sourceId }));

test('history lists the versions served, oldest first, with their status', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, state: { bytes: 256 } });
  t.after(() => host.close());
  const retired = trackRetired(host);
  assert.deepEqual(brief(host.history), [{ id: 1, status: 'serving', sourceId: undefined }]);

  await buildStateFixture({ k: 2 }, library);
  await host.reload();
  // A refusing build and a build without a declared symbol never serve: not history.
  await buildStateFixture({ k: 3, refuse: 1 }, library);
  await assert.rejects(host.reload(), { code: 'ERR_LOAD_HOOK' });
  await buildC(tickSource(4), library);
  await assert.rejects(host.reload(), { code: 'ERR_SYMBOL_MISSING' });
  await buildStateFixture({ k: 5 }, library);
  await host.reload();
  await host.rollback();
  await retired.until([1, 2, 5]);

  const history = host.history;
  assert.deepEqual(brief(history), [
    { id: 1, status: 'retired', sourceId: undefined },
    { id: 2, status: 'retired', sourceId: undefined },
    { id: 5, status: 'rolled-back', sourceId: undefined },
    { id: 6, status: 'serving', sourceId: 2 },
  ]);
  assert.equal(history[3]!.sha256, history[1]!.sha256, 'the rollback serves build 2 again');
  assert.notEqual(history[2]!.sha256, history[1]!.sha256);
  assert.deepEqual(history.at(-1), host.current);
  for (let i = 1; i < history.length; i++) assert.ok(history[i]!.loadedAt >= history[i - 1]!.loadedAt, 'oldest first');
  assert.ok(history.every((v) => v.library === library));
  assert.equal(new Set(history.map((v) => v.copy)).size, history.length, 'every version had its own copy');

  assert.ok(Object.isFrozen(history[0]), 'entries are snapshots');
  history.pop();
  assert.equal(host.history.length, 4, 'the returned array is the caller\'s own');

  await host.close();
  assert.deepEqual(host.history.map((v) => v.status), ['retired', 'retired', 'rolled-back', 'retired'],
    'after close nothing serves');
});

test('an old version kept only as its info reports what it did while it still existed', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  // keepBuilds 1: from the third version on, the oldest have no bytes and are kept as info
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, keepBuilds: 1 });
  t.after(() => host.close());
  const retired = trackRetired(host);
  const seen = new Map<number, VersionInfo>();
  host.on('retired', (v) => seen.set(v.id, v));
  for (const k of [2, 3, 2, 4, 5, 6]) {
    await buildStateFixture({ k }, library);
    await host.reload();
  }
  await host.rollback(); // v8 serves build 5 again; v7 rolled back from
  await retired.until([1, 2, 3, 4, 5, 6]);
  const history = host.history;
  assert.deepEqual(history.map((v) => v.status), ['retired', 'retired', 'retired', 'retired', 'retired', 'retired', 'rolled-back', 'serving']);
  for (const [id, info] of seen) {
    const { status, ...rest } = info;
    const { status: now, ...kept } = history[id - 1]!;
    assert.deepEqual(kept, rest, `version ${id}: what history shows of it is what it was`);
    assert.ok(status === now || (status === 'draining' && now === 'retired'), `version ${id}: ${status} -> ${now}`);
  }
  assert.equal(history[1]!.sha256, history[3]!.sha256, 'build 2 twice: one hash');
  assert.equal(history[7]!.sha256, history[5]!.sha256, 'the rollback serves build 5 again');
  await assert.rejects(host.rollback(), { code: 'ERR_NO_ROLLBACK' }, 'build 6 was rolled back from; older builds have no bytes');
});

test('a build rolled back from can be reloaded; that later run is judged on its own', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS });
  t.after(() => host.close());
  await buildStateFixture({ k: 2 }, library);
  await host.reload();                   // v2: build 2
  await host.rollback();                 // v3: build 1, v2 rolled back from
  await host.reload();                   // v4: build 2 again, on purpose
  await buildStateFixture({ k: 3 }, library);
  await host.reload();                   // v5: build 3
  const back = await host.rollback();    // to v4, not past it
  assert.equal(back.sourceId, 4);
  assert.equal(await host.call('version'), 2);
  assert.deepEqual(host.history.filter((v) => v.status === 'rolled-back').map((v) => v.id), [2, 5]);
  assert.equal((await host.rollback()).sourceId, 3, 'then build 1: build 2 was just rolled back from');
  assert.equal(await host.call('version'), 1);
});

test('a build that keeps crashing is marked failed in the history, and the host rolls back from it', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildStateFixture({ k: 1 }, library);
  // Process isolation: abort() ends a child process, not this test.
  const host = await createIsolatedHost({ library, functions: FIXTURE_FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  host.on('error', () => {});
  await buildStateFixture({ k: 2 }, library);
  await host.reload();
  // The crash policy restarts a build twice, then gives up on it at its third crash.
  const reasons: string[] = [];
  for (let i = 0; i < 3; i++) {
    // Not events.once: it rejects on the 'error' event every crash emits.
    const swapped = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
    await assert.rejects(host.call('crash'), { code: 'ERR_VERSION_CRASHED' });
    reasons.push((await swapped).reason);
  }
  assert.deepEqual(reasons, ['restart', 'restart', 'rollback']);
  assert.equal(await host.call('version'), 1);
  assert.deepEqual(brief(host.history).slice(1), [
    { id: 2, status: 'crashed', sourceId: undefined },
    { id: 3, status: 'crashed', sourceId: 2 },
    { id: 4, status: 'failed', sourceId: 3 },
    { id: 5, status: 'serving', sourceId: 1 },
  ]);
});
