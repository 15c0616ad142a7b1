// isolation: 'process': a library that segfaults, aborts or exits takes its child process
// down, never the host; the calls on that process reject, the host restarts the build.
import assert from 'node:assert/strict';
import { after, test, type TestContext } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type SwapEvent } from '../src/index.js';
import { ACT, ACT_FUNCTIONS, actSource, childPids, ticks } from './helpers/act-fixture.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

async function processHost(t: TestContext, library: string, state = false): Promise<IsolatedHost<typeof ACT_FUNCTIONS>> {
  const host = await createIsolatedHost({ library, functions: ACT_FUNCTIONS, isolation: 'process', ...(state ? { state: { bytes: 64 } } : {}) });
  t.after(() => host.close());
  return host;
}

/** The next `event` (events.once would reject on the 'error' a crash emits). */
const next = <T>(host: IsolatedHost<typeof ACT_FUNCTIONS>, event: 'swap' | 'crash'): Promise<T> =>
  new Promise((resolve) => host.once(event, resolve as (...args: unknown[]) => void));

const crashed = (details: Record<string, unknown>) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, `expected an IsoswapError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_VERSION_CRASHED');
  for (const [key, value] of Object.entries(details)) assert.equal(err.details[key], value, `${key} in ${err.message}`);
  return true;
};

const cases = [
  { what: ACT.SEGFAULT, name: 'a segfault', details: { signal: 'SIGSEGV' } },
  { what: ACT.ABORT, name: 'abort()', details: { signal: 'SIGABRT' } },
  { what: ACT.EXIT, name: 'exit(3)', details: { exitCode: 3 } },
];

for (const { what, name, details } of cases) {
  test(`${name} in a call rejects it and every call in flight on that process; the host restarts the build and serves on`, async (t) => {
    const host = await processHost(t, await buildC(actSource(7)));
    const first = host.current;
    const errors: IsoswapError[] = [];
    host.on('error', (err) => errors.push(err));
    const restarted = next<SwapEvent>(host, 'swap');

    // One process serves a version; it runs calls one at a time, so the two calls queued
    // behind the fatal one are in flight on it when it dies.
    const results = await Promise.allSettled([host.call('act', what), host.call('act', ACT.RETURN), host.call('act', ACT.RETURN)]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      crashed(details)(r.reason);
    }

    const swap = await restarted;
    assert.equal(swap.reason, 'restart');
    assert.equal(swap.from.id, first.id);
    assert.equal(swap.to.sourceId, first.id);
    assert.equal(swap.to.sha256, first.sha256);
    assert.equal(await host.call('act', ACT.RETURN), 7);
    assert.equal(host.current.id, swap.to.id);
    assert.equal(errors.length, 1);
    crashed(details)(errors[0]);
    assert.match(errors[0]!.message, /version 1 .* crashed/);
    assert.equal(host.history.find((v) => v.id === first.id)?.status, 'crashed');
  });
}

test('a call made between the crash and the restart waits for the restarted version; none is retried', async (t) => {
  const host = await processHost(t, await buildC(actSource(3)));
  host.on('error', () => {});
  const crash = next(host, 'crash');
  const crashedId = host.current.id;
  await assert.rejects(host.call('act', ACT.SEGFAULT), crashed({ signal: 'SIGSEGV' }));
  await crash;
  let swapped = false;
  void next(host, 'swap').then(() => { swapped = true; });
  assert.equal(await host.call('act', ACT.RETURN), 3);
  assert.ok(swapped, 'the call was answered only after the restart served');
  assert.notEqual(host.current.id, crashedId);
  assert.equal(host.current.sourceId, crashedId, 'the restart serves the same build again');
});

test('the state block survives a crash: the restarted build goes on from the last completed call', async (t) => {
  const host = await processHost(t, await buildC(actSource(1)), true);
  host.on('error', () => {});
  for (let i = 1; i <= 3; i++) assert.equal(await host.call('tick'), i);
  const restarted = next(host, 'swap');
  await assert.rejects(host.call('act', ACT.ABORT), crashed({ signal: 'SIGABRT' }));
  await restarted;
  assert.equal(await host.call('tick'), 4);
  assert.equal(ticks(host.state), 4, 'the host sees the same memory as the children');
});

test('a build that crashes while loading is a load error: createIsolatedHost and reload() reject, the current version serves on', async (t) => {
  const bad = await buildC(actSource(2, { crashInConstructor: true }));
  await assert.rejects(createIsolatedHost({ library: bad, functions: ACT_FUNCTIONS, isolation: 'process' }), (err: unknown) => {
    crashed({ signal: 'SIGSEGV' })(err);
    assert.match((err as Error).message, /crashed its process while loading/);
    assert.ok((err as Error).message.includes(bad), 'the message names the file');
    return true;
  });

  const library = await buildC(actSource(1));
  const host = await processHost(t, library);
  await buildC(actSource(2, { crashInConstructor: true }), library);
  await assert.rejects(host.reload(), crashed({ signal: 'SIGSEGV' }));
  assert.equal(host.current.id, 1);
  assert.equal(await host.call('act', ACT.RETURN), 1);
});

test('bigint and strings cross the process boundary (advanced serialization)', async (t) => {
  const host = await processHost(t, await buildC(actSource(1)));
  assert.equal(await host.call('twice', 2n ** 60n), 2n ** 61n);
  assert.equal(await host.call('wait_file', '/'), 1);
  // @ts-expect-error a string for an int32_t
  await assert.rejects(host.call('act', 'not a number'), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_BAD_ARGUMENTS');
});

test('no child process is left after close, also after crashes', async () => {
  assert.deepEqual(childPids(), [], 'the earlier tests closed their hosts');
  const host = await createIsolatedHost({ library: await buildC(actSource(1)), functions: ACT_FUNCTIONS, isolation: 'process', threads: 2 });
  try {
    host.on('error', () => {});
    assert.ok(childPids().length >= 2, 'threads: 2 forks two children (and warm standbys)');
    const restarted = next(host, 'swap');
    await assert.rejects(host.call('act', ACT.EXIT), crashed({ exitCode: 3 }));
    await restarted;
    await host.reload();
  } finally {
    await host.close();
  }
  assert.deepEqual(childPids(), []);
});
