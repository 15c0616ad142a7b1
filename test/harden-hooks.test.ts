// Issue 15, row "isoswap_load or isoswap_unload never returns": past hookTimeoutMs the
// swap is refused (stuck load) or goes ahead (stuck unload), and reload(), close(), the
// calls held at the gate and callSync all settle, in both isolations. The stuck hooks
// wait for a file (a rendezvous), created at the end so that an abandoned thread returns.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';
import { stuckHookSource } from './helpers/harden-fixtures.js';

after(removeTempDirs);

const FUNCTIONS = { version: 'int32_t version(void)' };
const ISOLATIONS = ['thread', 'process'] as const;
/** Long enough for a trivial hook on a loaded machine; the stuck ones never return. */
const HOOK_TIMEOUT_MS = 1500;

async function setUp(t: TestContext, isolation: 'thread' | 'process', first: string, state: boolean): Promise<{ host: IsolatedHost; library: string; go: string; errors: IsoswapError[] }> {
  const dir = await makeTempDir();
  const library = join(dir, 'libhooks.so');
  const go = join(dir, 'go');
  await buildC(first, library);
  const host = await createIsolatedHost({
    library, functions: FUNCTIONS, isolation, hookTimeoutMs: HOOK_TIMEOUT_MS, ...(state ? { state: { bytes: 64 } } : {}),
  });
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  t.after(async () => {
    await writeFile(go, ''); // an abandoned thread returns from its hook and ends
    await host.close();
  });
  return { host, library, go, errors };
}

for (const isolation of ISOLATIONS) {
  for (const state of [false, true]) {
    const withState = state ? ', with a state block' : '';
    test(`isoswap_load never returns: reload() rejects with ERR_HOOK_TIMEOUT, v1 serves on (${isolation}${withState})`, async (t) => {
      const { host, library, go, errors } = await setUp(t, isolation, stuckHookSource(1, {}), state);
      await buildC(stuckHookSource(2, { load: join(library, '..', 'go') }), library);
      const reloading = host.reload();
      const held = host.call('version'); // with a state block: held at the gate
      await assert.rejects(reloading, (err: unknown) => {
        assert.ok(err instanceof IsoswapError && err.code === 'ERR_HOOK_TIMEOUT', String(err));
        assert.equal(err.details['hook'], 'isoswap_load');
        assert.equal(err.details['phase'], 'load-hook');
        return true;
      });
      assert.equal(await held, 1, 'the held call settles, on v1');
      assert.equal(host.callSync('version'), 1, 'callSync settles');
      assert.equal(host.current.id, 1);
      assert.ok(errors.some((e) => e.code === 'ERR_HOOK_TIMEOUT'), 'the timeout reaches the error event');
      if (isolation === 'thread') assert.ok(errors.some((e) => e.code === 'ERR_THREAD_STUCK'), 'the abandoned thread is reported');
      await writeFile(go, '');
      await buildC(stuckHookSource(3, {}), library);
      assert.equal((await host.reload()).id, 3, 'the next build is served');
    });

    test(`isoswap_unload never returns: the swap goes ahead and close() settles (${isolation}${withState})`, async (t) => {
      const dir = await makeTempDir();
      const go = join(dir, 'go');
      const { host, library, errors } = await setUp(t, isolation, stuckHookSource(1, { unload: go }), state);
      await buildC(stuckHookSource(2, { unload: go }), library);
      const swapped = await host.reload();
      assert.equal(swapped.id, 2);
      assert.equal(await host.call('version'), 2, 'the new version serves');
      // Without a state block v1 retires in the background; close() waits for it.
      const closing = host.close();
      await closing;
      const timeouts = errors.filter((e) => e.code === 'ERR_HOOK_TIMEOUT' && e.details['hook'] === 'isoswap_unload');
      assert.ok(timeouts.length >= 2, `both unloads are reported: ${errors.map((e) => e.code).join(', ')}`);
      if (isolation === 'thread') assert.ok(errors.some((e) => e.code === 'ERR_THREAD_STUCK'), 'the abandoned threads are reported');
      await writeFile(go, '');
    });
  }
}

test('isoswap_load of the first build never returns: createIsolatedHost rejects with ERR_HOOK_TIMEOUT (process)', async () => {
  const dir = await makeTempDir();
  const library = await buildC(stuckHookSource(1, { load: join(dir, 'never') }), join(dir, 'lib.so'));
  await assert.rejects(createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', hookTimeoutMs: 300 }), { code: 'ERR_HOOK_TIMEOUT' });
});

test('hookTimeoutMs: 0 means no limit (a slow hook is waited for)', async () => {
  const dir = await makeTempDir();
  const go = join(dir, 'go');
  const library = await buildC(stuckHookSource(1, { load: go }), join(dir, 'lib.so'));
  const creating = createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', hookTimeoutMs: 0 });
  setImmediate(() => { void writeFile(go, ''); });
  const host = await creating;
  assert.equal(await host.call('version'), 1);
  await host.close();
  assert.ok(tickSource(1).length > 0);
});
