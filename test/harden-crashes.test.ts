// Issue 15, rows "isoswap_load crashing in process isolation" and "an isoswap_unload
// crash without a state block is swallowed": a crash says where it happened
// (`details.phase`) and every one reaches the `error` event.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';
import { crashingSource } from './helpers/harden-fixtures.js';

after(removeTempDirs);

const FUNCTIONS = { version: 'int32_t version(void)', crash: 'void crash(void)' };

/** The next error event that matches (events.once would reject on 'error'). */
const nextError = (host: { once(e: 'error', l: (err: IsoswapError) => void): unknown }): Promise<IsoswapError> =>
  new Promise((resolve) => host.once('error', resolve));

for (const phase of ['constructor', 'load-hook'] as const) {
  for (const state of [false, true]) {
    test(`a crash in the ${phase} of a new build: reload() and the error event say phase '${phase}'${state ? ' (state block)' : ''}`, async (t) => {
      const library = join(await makeTempDir(), 'libcrash.so');
      await buildC(crashingSource(1, 'none'), library);
      const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', ...(state ? { state: { bytes: 16 } } : {}) });
      t.after(() => host.close());
      const reported = nextError(host);
      await buildC(crashingSource(2, phase), library);
      const err = await host.reload().then(() => assert.fail('the crashing build must be refused'), (e: unknown) => e);
      assert.ok(err instanceof IsoswapError && err.code === 'ERR_VERSION_CRASHED', String(err));
      assert.equal(err.details['phase'], phase);
      const event = await reported;
      assert.equal(event.code, 'ERR_VERSION_CRASHED');
      assert.equal(event.details['phase'], phase);
      assert.equal(await host.call('version'), 1, 'v1 serves on');
    });
  }
}

for (const state of [false, true]) {
  test(`a crash in isoswap_unload reaches the error event with phase 'unload-hook'${state ? ' (state block)' : ' (no state block: it was swallowed)'}`, async (t) => {
    const library = join(await makeTempDir(), 'libcrash.so');
    await buildC(crashingSource(1, 'unload-hook'), library);
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', ...(state ? { state: { bytes: 16 } } : {}) });
    t.after(() => host.close());
    const reported = nextError(host);
    await buildC(crashingSource(2, 'none'), library);
    assert.equal((await host.reload()).id, 2, 'the new version serves');
    const event = await reported;
    assert.equal(event.code, 'ERR_VERSION_CRASHED', event.message);
    assert.equal(event.details['phase'], 'unload-hook');
    assert.equal(await host.call('version'), 2);
  });
}

test('a crash in a call: the error event says phase \'call\'', async (t) => {
  const library = join(await makeTempDir(), 'libcrash.so');
  await buildC(crashingSource(1, 'none'), library);
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  const reported = nextError(host);
  await assert.rejects(host.call('crash'), { code: 'ERR_VERSION_CRASHED' });
  const event = await reported;
  assert.equal(event.details['phase'], 'call');
});
