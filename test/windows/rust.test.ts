// A Rust DLL under Windows Node (run by the Windows lane, which builds rusty.dll where the
// toolchain has x86_64-pc-windows-gnu, and says why not otherwise): std's first random
// keys go through the bcryptprimitives shim beside it; served in both isolations.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createIsolatedHost, type Isolation } from '../../src/index.js';
import { fixturePath } from './dll-fixtures.js';
import { hostFiles, install, removeDirs, tempDir } from './windows-helpers.js';

const built = existsSync(fixturePath('rusty.dll'));
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)', distinct: 'int32_t distinct(int32_t)' };

describe('a Rust DLL on Windows', { skip: built ? false : 'no rusty.dll: the lane printed why (the toolchain lacks x86_64-pc-windows-gnu)' }, () => {
  after(removeDirs);

  for (const isolation of ['thread', 'process'] as Isolation[]) {
    test(`rustc's name.dll (no lib prefix) serves in ${isolation} isolation, std's HashSet included, leaving no copy`, async () => {
      const dir = tempDir();
      copyFileSync(fixturePath('bcryptprimitives.dll'), join(dir, 'bcryptprimitives.dll')); // found beside the copy
      const library = install('rusty.dll', join(dir, 'rusty.dll'));
      const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
      try {
        assert.equal(await host.call('do_tick', 2), 42);
        assert.equal(await host.call('distinct', 100), 7);
        assert.equal(await host.call('version'), 40);
      } finally {
        await host.close();
      }
      assert.deepEqual(hostFiles(dir), []);
    });
  }
});
