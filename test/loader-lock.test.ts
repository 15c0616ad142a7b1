import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const functions = { do_tick: 'int32_t do_tick(int32_t)' };
/** Far beyond every deadline below: reaching it means a hang. */
const HANG_MS = 20_000;

/** A constructor or destructor that does not return until `go` exists (bounded: 60 s). */
const waitsFor = (kind: 'constructor' | 'destructor', go: string, k: number): string => tickSource(k, `#include <unistd.h>
__attribute__((${kind})) static void wait_for_go(void) {
  for (int i = 0; i < 60000 && access("${go}", F_OK) != 0; i++) usleep(1000);
}`);

async function settlesWithin<T>(work: Promise<T>): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => { timer = setTimeout(resolve, HANG_MS, 'hung'); });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const blocked = (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError);
  assert.equal(err.code, 'ERR_LOADER_BLOCKED');
  return true;
};

test('after a load timeout in thread isolation, a new thread host is refused with ERR_LOADER_BLOCKED within its loadTimeoutMs, the stuck host closes, and once the constructor returns a new host serves', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  const go = join(dir, 'go');
  await buildC(tickSource(1), library);
  const other = await buildC(tickSource(7), join(dir, 'libother.so'));
  const host = await createIsolatedHost({ library, functions, loadTimeoutMs: 300 });
  try {
    await buildC(waitsFor('constructor', go, 2), library);
    await assert.rejects(host.reload(), { code: 'ERR_LOAD_TIMEOUT' });
    assert.equal(await host.call('do_tick', 1), 2, 'version 1 serves on');
    await assert.rejects(settlesWithin(createIsolatedHost({ library: other, functions, loadTimeoutMs: 400 })), blocked);
    // The same host's reload is refused the same way, and its close() returns.
    await assert.rejects(settlesWithin(host.reload()), blocked);
    assert.notEqual(await settlesWithin(host.close()), 'hung');
  } finally {
    await writeFile(go, '');
  }
  // The constructor returned: the loader is free again.
  const next = await createIsolatedHost({ library: other, functions, loadTimeoutMs: 5000 });
  assert.equal(await next.call('do_tick', 1), 8);
  await next.close();
});

test('a destructor that never returns, hit by a reload in thread isolation: the event loop runs on, the reload serves, a new thread host is refused, and serves once the destructor returns', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  const go = join(dir, 'go');
  await buildC(waitsFor('destructor', go, 1), library);
  const other = await buildC(tickSource(7), join(dir, 'libother.so'));
  const host: IsolatedHost = await createIsolatedHost({ library, functions, hookTimeoutMs: 200, loadTimeoutMs: 5000 });
  const errors: string[] = [];
  host.on('error', (err) => errors.push(err.code));
  try {
    await buildC(tickSource(2), library);
    assert.equal((await host.reload()).id, 2);
    // Retiring version 1 unloads it: its destructor waits past hookTimeoutMs.
    const retired = new Promise<void>((resolve) => host.once('retired', () => resolve()));
    assert.notEqual(await settlesWithin(retired), 'hung', 'the event loop turned after the stuck dlclose');
    assert.deepEqual(errors, ['ERR_HOOK_TIMEOUT']);
    assert.equal(await host.call('do_tick', 1), 3);
    await assert.rejects(settlesWithin(createIsolatedHost({ library: other, functions, loadTimeoutMs: 300 })), blocked);
  } finally {
    await writeFile(go, '');
  }
  const next = await createIsolatedHost({ library: other, functions, loadTimeoutMs: 5000 });
  assert.equal(await next.call('do_tick', 1), 8);
  await Promise.all([next.close(), host.close()]);
});

test('a retiring version whose threads still run, while another load is stuck in its constructor: close() returns without a dlopen on the main thread (the worker is kept instead)', async () => {
  const dir = await makeTempDir();
  const go = join(dir, 'go');
  const stuck = join(dir, 'libstuck.so');
  await buildC(tickSource(1), stuck);
  const blocker = await createIsolatedHost({ library: stuck, functions, loadTimeoutMs: 300 });
  const threaded = await buildC(tickSource(4, `#include <pthread.h>
#include <unistd.h>
static void *wait_for_go(void *arg) { (void)arg; for (int i = 0; i < 60000 && access("${go}", F_OK) != 0; i++) usleep(1000); return 0; }
int32_t start(void) { pthread_t t; return pthread_create(&t, 0, wait_for_go, 0); }`), join(dir, 'libthreaded.so'));
  const host = await createIsolatedHost({ library: threaded, functions: { ...functions, start: 'int32_t start(void)' }, hookTimeoutMs: 200 });
  const errors: string[] = [];
  host.on('error', (err) => errors.push(err.code));
  try {
    assert.equal(await host.call('start'), 0);
    await buildC(waitsFor('constructor', go, 2), stuck);
    await assert.rejects(blocker.reload(), { code: 'ERR_LOAD_TIMEOUT' });
    assert.notEqual(await settlesWithin(host.close()), 'hung');
    assert.deepEqual(errors, ['ERR_GUEST_THREADS']);
  } finally {
    await writeFile(go, '');
  }
  await blocker.close();
});
