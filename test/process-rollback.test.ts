// isolation: 'process': a build that keeps crashing is given up on: rolled back to the
// previous good build, or, with none, left dead (calls reject) until a new build arrives.
import assert from 'node:assert/strict';
import { after, test, type TestContext } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type SwapEvent, type VersionInfo } from '../src/index.js';
import { ACT, ACT_FUNCTIONS, actSource, childPids, type ActOptions } from './helpers/act-fixture.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

type Host = IsolatedHost<typeof ACT_FUNCTIONS>;

/** A process host on build 1, with every swap and error recorded. */
async function start(t: TestContext, first: ActOptions = {}) {
  const library = await buildC(actSource(1, first));
  const host: Host = await createIsolatedHost({ library, functions: ACT_FUNCTIONS, isolation: 'process', state: { bytes: 64 } });
  t.after(() => host.close());
  const swaps: SwapEvent[] = [];
  const errors: IsoswapError[] = [];
  host.on('swap', (s) => swaps.push(s));
  host.on('error', (e) => errors.push(e));
  return { host, library, swaps, errors };
}

/** Resolves once `done` holds, checked after every swap and error. */
function until(host: Host, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      host.off('swap', check).off('error', check);
      resolve();
    };
    host.on('swap', check).on('error', check);
    check();
  });
}

const isCrash = (err: unknown): boolean => err instanceof IsoswapError && err.code === 'ERR_VERSION_CRASHED';

test('a build that crashes on every call, 3 times in 10 s, is rolled back to the previous good build', async (t) => {
  const { host, library, swaps } = await start(t);
  await buildC(actSource(2), library);
  const bad = await host.reload();
  assert.equal(await host.call('act', ACT.RETURN), 2);

  for (let crash = 1; crash <= 3; crash++) {
    await assert.rejects(host.call('act', ACT.SEGFAULT), isCrash);
    await until(host, () => swaps.length === 1 + crash);
  }
  assert.deepEqual(swaps.map((s) => s.reason), ['reload', 'restart', 'restart', 'rollback']);
  assert.equal(await host.call('act', ACT.RETURN), 1, 'build 1 serves again');
  assert.equal(host.current.sourceId, 1);

  const byId = new Map<number, VersionInfo>(host.history.map((v) => [v.id, v]));
  assert.equal(byId.get(bad.id)?.status, 'crashed');
  const lastBad = swaps[3]!.from;
  assert.equal(lastBad.sha256, bad.sha256);
  assert.equal(byId.get(lastBad.id)?.status, 'failed', 'given up on, not merely rolled back from');
  assert.equal(host.history.at(-1)?.id, host.current.id);
});

test('a restart that crashes while loading is rolled back at once', async (t) => {
  const { host, library, swaps, errors } = await start(t);
  // The state block counts loads (it outlives the processes): build 1 was load 1, build 2
  // is load 2, its restart would be load 3, where build 2's isoswap_load aborts.
  await buildC(actSource(2, { loadCrashFrom: 3 }), library);
  await host.reload();
  await assert.rejects(host.call('act', ACT.ABORT), isCrash);
  await until(host, () => swaps.length === 2);
  assert.deepEqual(swaps.map((s) => s.reason), ['reload', 'rollback']);
  assert.equal(await host.call('act', ACT.RETURN), 1);
  const crashes = errors.filter((e) => e.code === 'ERR_VERSION_CRASHED');
  assert.equal(crashes.length, 2, `the crash and the failed restart are reported: ${errors.map((e) => e.message).join(' | ')}`);
  assert.equal(crashes[1]!.details.signal, 'SIGABRT');
});

test('with no good build left, calls reject with ERR_VERSION_CRASHED until a new build arrives, and nothing respawns', async (t) => {
  const { host, library, swaps, errors } = await start(t);
  for (let crash = 1; crash <= 3; crash++) {
    await assert.rejects(host.call('act', ACT.EXIT), isCrash);
    await until(host, () => swaps.length === Math.min(crash, 2) && errors.length === crash + (crash === 3 ? 1 : 0));
  }
  assert.ok(errors.some((e) => e.code === 'ERR_NO_ROLLBACK'), 'giving up is reported');
  assert.equal(host.current.status, 'failed');

  const idle = childPids(); // at most the warm standby: the crashed build has no process
  assert.ok(idle.length <= 1, `children: ${idle.join(', ')}`);
  for (let i = 0; i < 5; i++) await assert.rejects(host.call('act', ACT.RETURN), isCrash);
  assert.deepEqual(childPids(), idle, 'nothing was started for those calls');
  assert.equal(swaps.length, 2);

  await buildC(actSource(3), library);
  await host.reload();
  assert.equal(await host.call('act', ACT.RETURN), 3);
});
