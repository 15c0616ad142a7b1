import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

/** A build whose constructor does not return until `go` exists (bounded: 20 s). */
const stuckConstructor = (go: string): string => tickSource(2, `#include <unistd.h>
__attribute__((constructor)) static void wait_for_go(void) {
  for (int i = 0; i < 20000 && access("${go}", F_OK) != 0; i++) usleep(1000);
}`);

for (const isolation of ['thread', 'process'] as const) {
  test(`a build whose constructor does not return is refused with ERR_LOAD_TIMEOUT; the current version serves on (${isolation})`, async () => {
    const dir = await makeTempDir();
    const library = join(dir, 'libgame.so');
    const go = join(dir, 'go');
    await buildC(tickSource(1), library);
    const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' }, isolation, loadTimeoutMs: 300 });
    try {
      await buildC(stuckConstructor(go), library);
      await assert.rejects(host.reload(), (err: unknown) => {
        assert.ok(err instanceof IsoswapError);
        assert.equal(err.code, 'ERR_LOAD_TIMEOUT');
        assert.ok(err.message.includes(library), err.message);
        return true;
      });
      assert.equal(await host.call('do_tick', 1), 2, 'version 1 still answers');
      assert.equal(host.current.id, 1);
      // A constructor runs under glibc's loader lock: while one is stuck in a thread of
      // this process, every dlopen here waits. A child process is killed and takes the
      // lock with it; a thread must be let go first.
      if (isolation === 'thread') await writeFile(go, '');
      // The next good build is served: the stuck load does not hold the swap queue.
      await buildC(tickSource(3), library);
      assert.equal((await host.reload()).id, 3);
      assert.equal(await host.call('do_tick', 1), 4);
    } finally {
      await writeFile(go, ''); // a stuck thread cannot be killed: let it return (thread mode: done above)
      await host.close();
    }
  });
}

test('process isolation: the child stuck in its constructor is killed; close() needs nothing from it', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  await buildC(tickSource(1), library);
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' }, isolation: 'process', loadTimeoutMs: 200 });
  await buildC(stuckConstructor(join(dir, 'never')), library);
  await assert.rejects(host.reload(), { code: 'ERR_LOAD_TIMEOUT' });
  const closed = await Promise.race([host.close().then(() => 'closed'), new Promise((r) => setTimeout(r, 5000, 'hung'))]);
  assert.equal(closed, 'closed');
});
