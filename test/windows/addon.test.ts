// Node-API addons under Windows Node (run by the Windows lane): a `.node` is a DLL that
// imports napi_* from node.exe; createAddonHost serves it from private copies in both
// isolations.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createAddonHost, IsoswapError } from '../../src/index.js';
import { hostFiles, install, removeDirs, tempDir } from './windows-helpers.js';

interface TestAddon {
  tick(x: number | (() => number)): number;
  version(): number;
}

describe('Node-API addons on Windows', () => {
  after(removeDirs);

  for (const isolation of ['thread', 'process'] as const) {
    test(`isolation '${isolation}': serves the exports, swaps to a new build, rolls back, leaves no copy`, async () => {
      const dir = tempDir();
      const path = install('addon1.node', join(dir, 'addon.node'));
      const addon = await createAddonHost<TestAddon>({ addon: path, isolation });
      try {
        assert.equal(await addon.exports.tick(5), 6);
        if (isolation === 'process') {
          // host callbacks from a child are Linux-only for now: refused, typed, before the call
          await assert.rejects(addon.exports.tick(() => 1), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_UNSUPPORTED_PLATFORM');
        }
        install('addon2.node', path);
        await addon.reload();
        assert.equal(await addon.exports.tick(5), 7);
        assert.equal(await addon.exports.version(), 2);
        await addon.rollback();
        assert.equal(await addon.exports.version(), 1);
      } finally {
        await addon.close();
      }
      assert.deepEqual(hostFiles(dir), []);
    });
  }
});
