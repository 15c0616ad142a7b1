import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rename, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, type IsoswapError } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

test('a save that leaves a symlink loop at the watched path is one error, not one per event; the next good build is served', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  await buildC(tickSource(1), library);
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' }, watch: true });
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  try {
    const reported = once(host, 'error');
    await symlink('libgame.so', join(dir, 'loop'));
    await rename(join(dir, 'loop'), library); // libgame.so -> libgame.so
    await reported;
    // The good build's swap comes after every event of the loop's save was handled.
    const swapped = once(host, 'swap');
    const good = await buildC(tickSource(2), join(dir, 'next.so'));
    await rename(good, library);
    await swapped;
    assert.equal(await host.call('do_tick', 1), 3);
    assert.equal(errors.length, 1, errors.map((e) => `${e.code}: ${e.message}`).join('\n'));
    assert.match(errors[0]!.message, /ELOOP/);
  } finally {
    await host.close();
  }
});
