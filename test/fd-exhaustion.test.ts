// close() with every file descriptor of the process in use: the version is still
// unloaded and its copy unmapped (the look for its threads at /proc failed and stopped
// the retirement before the unload; the loader sweep gave up for good).
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { after, test } from 'node:test';
import { createIsolatedHost, type IsoswapError } from '../src/index.js';
import { buildC, mappedFiles, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

test('close() while every fd is in use unloads the version and unmaps its copy (thread isolation)', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' } });
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  assert.equal(await host.call('do_tick', 1), 2);
  const held: number[] = [];
  try {
    for (;;) held.push(openSync('/dev/null', 'r'));
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'EMFILE');
  }
  try {
    await host.close();
  } finally {
    for (const fd of held) closeSync(fd);
  }
  assert.deepEqual(errors.map((e) => e.message), []);
  assert.equal(await mappedFiles('.isoswap-'), 0, 'no copy left mapped');
});
