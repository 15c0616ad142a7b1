// createAddonHost: a Node-API addon's exports served from the current version, its errors
// typed, its builds swapped (reload, watch, rollback), in both isolation modes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, test, type TestContext } from 'node:test';
import { buildC } from './helpers/native.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { createAddonHost, IsoswapError, type AddonHost, type AddonHostOptions, type IsoswapErrorCode, type SwapEvent } from '../src/index.js';
import { removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

async function host(t: TestContext, options: AddonHostOptions): Promise<AddonHost<TestAddon>> {
  const addon = await createAddonHost<TestAddon>(options);
  t.after(() => addon.close());
  return addon;
}

/** An assert.rejects/throws matcher: an IsoswapError with `code` and these details. */
const typed = (code: IsoswapErrorCode, details: Record<string, unknown> = {}) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, `expected an IsoswapError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  for (const [key, value] of Object.entries(details)) assert.equal(err.details[key], value, `${key} in ${err.message}`);
  return true;
};

for (const isolation of ['thread', 'process'] as const) {
  describe(`isolation: '${isolation}'`, () => {
    test('serves the exports; a reload serves the new build; rollback the old one; events and history follow', async (t) => {
      const path = await buildAddon(1);
      const addon = await host(t, { addon: path, isolation });
      assert.equal(await addon.exports.tick(5), 6);
      assert.deepEqual(Object.keys(addon.exports).sort(), ['addLater', 'checksum', 'crash', 'echo', 'fail', 'fill', 'jsThrow', 'later', 'list', 'makeFunction', 'tick', 'version'],
        'functions only: BUILD is a number, the hooks are not exports');
      assert.ok('tick' in addon.exports && !('isoswapLoad' in addon.exports));
      assert.equal(await addon.exports.addLater(2, 3), 5, 'a Promise result settles first');
      const value = { list: [1, 2n], map: new Map([['k', new Uint8Array([7])]]), at: new Date(0) };
      assert.deepEqual(await addon.exports.echo(value), value, 'structured clone both ways');

      await buildAddon(2, path);
      const swapped = once(addon, 'swap') as Promise<[SwapEvent]>;
      const retired = once(addon, 'retired');
      const v2 = await addon.reload();
      assert.equal((await swapped)[0].to.id, v2.id);
      assert.equal(await addon.exports.tick(5), 7);
      assert.equal((await retired)[0].id, 1);

      await addon.rollback();
      assert.equal(await addon.exports.version(), 1);
      assert.deepEqual(addon.history.map((v) => [v.id, v.status]), [[1, 'retired'], [2, 'rolled-back'], [3, 'serving']]);
      assert.equal(addon.current.sourceId, 1);
    });

    test('a JavaScript exception and a thrown N-API error become ERR_ADDON_THREW keeping their code', async (t) => {
      const addon = await host(t, { addon: await buildAddon(1), isolation });
      await assert.rejects(addon.exports.fail(), typed('ERR_ADDON_THREW', { function: 'fail', code: 'EADDON_FAIL', message: 'the addon failed on purpose' }));
      await assert.rejects(addon.exports.jsThrow(), typed('ERR_ADDON_THREW', { function: 'jsThrow', code: 'EJS_BOOM', name: 'RangeError' }));
      assert.throws(() => addon.callSync('fail'), typed('ERR_ADDON_THREW', { code: 'EADDON_FAIL' }));
      assert.throws(() => addon.callSync('jsThrow'), typed('ERR_ADDON_THREW', { code: 'EJS_BOOM' }));
      assert.equal(await addon.exports.tick(1), 2, 'the version serves on');
    });

    test('what structured clone cannot carry, unknown names and async functions in callSync are typed errors', async (t) => {
      const addon = await host(t, { addon: await buildAddon(1), isolation });
      await assert.rejects(addon.exports.makeFunction(), typed('ERR_NOT_CLONEABLE', { function: 'makeFunction' }));
      await assert.rejects(addon.exports.echo(() => 1), typed('ERR_NOT_CLONEABLE', { function: 'echo' }));
      assert.throws(() => addon.callSync('echo', () => 1), typed('ERR_NOT_CLONEABLE', { function: 'echo' }));
      const untyped = addon.exports as unknown as Record<string, () => Promise<unknown>>;
      await assert.rejects(untyped['missing']!(), typed('ERR_UNKNOWN_FUNCTION', { function: 'missing' }));
      await assert.rejects(untyped['isoswapLoad']!(), typed('ERR_UNKNOWN_FUNCTION'), 'the hooks are not callable');
      assert.throws(() => addon.callSync('addLater', 1, 2), typed('ERR_BAD_ARGUMENTS', { function: 'addLater' }));
      assert.equal(addon.callSync('tick', 1), 2);
      assert.deepEqual(addon.callSync('echo', { a: [1n] }), { a: [1n] });
    });

    test('an addon that does not register, or whose init throws, is ERR_ADDON_INIT naming it; the current build serves on', async (t) => {
      const plain = await buildC('int f(void) { return 1; }');
      await assert.rejects(createAddonHost({ addon: plain, isolation }), typed('ERR_ADDON_INIT', { file: plain }));
      const throwing = await buildAddon(1, undefined, ['INIT_THROW']);
      await assert.rejects(createAddonHost({ addon: throwing, isolation }), typed('ERR_ADDON_INIT', { file: throwing, code: 'EINIT_REFUSED' }));

      const path = await buildAddon(1);
      const addon = await host(t, { addon: path, isolation });
      await buildAddon(2, path, ['INIT_THROW']);
      await assert.rejects(addon.reload(), typed('ERR_ADDON_INIT', { code: 'EINIT_REFUSED' }));
      assert.equal(await addon.exports.tick(1), 2);
      assert.equal(addon.current.id, 1);
    });

    test('state survives swaps: isoswapLoad/isoswapUnload get a Uint8Array over the block; a refusal keeps the old build', async (t) => {
      const path = await buildAddon(1);
      const addon = await host(t, { addon: path, isolation, state: { bytes: 64 } });
      const words = new Uint32Array(addon.state!.buffer, addon.state!.byteOffset, 4);
      for (let i = 0; i < 5; i++) await addon.exports.tick(i);
      await buildAddon(2, path);
      const v2 = await addon.reload();
      for (let i = 0; i < 3; i++) await addon.exports.tick(i);
      assert.deepEqual([...words], [8, 2, 1, v2.id], 'tick counted across both builds; two loads, one unload; isoswapLoad told its version');

      await buildAddon(3, path, ['REFUSE']);
      await assert.rejects(addon.reload(), typed('ERR_LOAD_HOOK', { result: 7 }));
      assert.equal(await addon.exports.tick(0), 2, 'build 2 serves on');
      assert.equal(words[0], 9);
    });
  });
}

test('watch: a rebuild saved over the addon is served without a reload call', async (t) => {
  const path = await buildAddon(1);
  const addon = await host(t, { addon: path, watch: true });
  const swapped = once(addon, 'swap') as Promise<[SwapEvent]>;
  await buildAddon(2, path);
  assert.equal((await swapped)[0].reason, 'watch');
  assert.equal(await addon.exports.version(), 2);
});

test('bad options are ERR_INVALID_OPTIONS', async () => {
  await assert.rejects(createAddonHost({ addon: '' }), typed('ERR_INVALID_OPTIONS'));
  await assert.rejects(createAddonHost({ addon: 'x.node', isolation: 'fiber' as 'thread' }), typed('ERR_INVALID_OPTIONS'));
  await assert.rejects(createAddonHost({ addon: '/nonexistent/x.node' }), typed('ERR_LIBRARY_NOT_FOUND'));
});
