// Reloads back to back: never two runtime starts at once (a reload that finds the standby
// still starting takes it; one that finds none starts one, and the replacement waits for
// its load), and reloads asked for while one runs are served by one swap of the newest bytes.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { awaited } from '../src/procedure.js';
import { RuntimeFactory } from '../src/runtime/start.js';
import type { VersionRuntime } from '../src/runtime/types.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)' };

for (const isolation of ['thread', 'process'] as const) {
  test(`${isolation}: loads back to back, a turn apart and while the standby starts: one start at a time`, async () => {
    const library = await buildC(tickSource(1));
    const runtimes = new RuntimeFactory(isolation, 1);
    const retired: Array<Promise<void>> = [];
    const LOADS = 6;
    try {
      for (let i = 0; i < LOADS; i++) {
        const runtime: VersionRuntime = await awaited(runtimes.start({ library, copy: library, functions: FUNCTIONS }));
        assert.equal(await runtime.call('do_tick', [i]), i + 1);
        retired.push(runtime.shutdown());
        if (i % 3 === 1) await turn(); // the standby refill starts: the next load takes it still starting
      }
      const { started, maxStarting } = runtimes.stats;
      assert.equal(maxStarting, 1, 'never two runtimes starting at once');
      assert.ok(started <= LOADS + 2, `${started} runtimes started for ${LOADS} loads: none wasted`);
    } finally {
      await Promise.all(retired);
      await runtimes.close();
    }
  });
}

test('reloads asked for while one runs are served by one swap of the newest bytes', async (t) => {
  const dir = await makeTempDir();
  const library = join(dir, 'libtick.so');
  const [entered, gate] = [join(dir, 'entered'), join(dir, 'gate')];
  // Build 2 holds its swap in isoswap_load until the test opens the gate (a rendezvous).
  const held = `#include <unistd.h>
#include <stdio.h>
int32_t isoswap_load(void *state, uint32_t bytes) {
  fclose(fopen("${entered}", "w"));
  for (int i = 0; i < 20000 && access("${gate}", F_OK) != 0; i++) usleep(1000);
  return 0;
}`;
  const builds = await Promise.all([1, 2, 3, 4].map((k) => buildC(tickSource(k, k === 2 ? held : ''), join(dir, `build${k}.so`))));
  copyFileSync(builds[0]!, library);
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => host.close());
  let swaps = 0;
  host.on('swap', () => swaps++);
  copyFileSync(builds[1]!, library);
  const running = host.reload();
  for (let i = 0; i < 2000 && !existsSync(entered); i++) await sleep(5);
  assert.ok(existsSync(entered), 'the first reload runs (held in its load hook)');
  copyFileSync(builds[2]!, library);
  const later = [host.reload(), host.reload(), host.reload()];
  copyFileSync(builds[3]!, library); // saved before the queued reload starts: it serves this
  await writeFile(gate, '');
  const [first, ...rest] = await Promise.all([running, ...later]);
  assert.equal(new Set(rest.map((v) => v.id)).size, 1, 'the three later reloads are one swap');
  assert.notEqual(first.id, rest[0]!.id);
  assert.equal(swaps, 2);
  assert.equal(await host.call('version'), 4, 'the newest bytes serve');
});
