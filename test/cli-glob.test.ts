// `isoswap run` with a glob for the library: the glob is what is looked at, never a file
// literally named `*.so`.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Cli, isCall, save, TICK } from './helpers/cli.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

test('a glob library with --watch, started before the first build: the build that appears is served', async () => {
  const dir = await makeTempDir();
  const cli = new Cli(['run', join(dir, '*.so'), '--fn', TICK, '--arg', '1', '--every', '10', '--watch', '--json']);
  try {
    const failed = await cli.next((e) => e.event === 'error');
    assert.equal(failed.code, 'ERR_LIBRARY_NOT_FOUND');
    await save(join(dir, 'libgame.so'), await readFile(await buildC(tickSource(5))));
    const loaded = await cli.next((e) => e.event === 'load');
    assert.equal(loaded.version, 1);
    await cli.next(isCall(6));
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});

test('a glob library with --on-enter: Enter on unchanged bytes says so', async () => {
  const dir = await makeTempDir();
  await buildC(tickSource(1), join(dir, 'libgame.so'));
  const cli = new Cli(['run', join(dir, '*.so'), '--fn', TICK, '--arg', '{tick}', '--every', '10', '--on-enter', '--json']);
  try {
    await cli.next(isCall(3));
    cli.child.stdin.write('\n');
    const unchanged = await cli.next((e) => e.event === 'unchanged');
    assert.equal(unchanged.version, 1);
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
  assert.ok(!cli.events.some((e) => e.event === 'swap'), 'Enter loaded nothing');
});
