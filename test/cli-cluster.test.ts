// `isoswap run --cluster N`: N node:cluster workers serve the library as one fleet; a new
// build saved at <library> is one fleet swap, served by every worker.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Cli, isCall, save, TICK } from './helpers/cli.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

test('--cluster 2 --watch: a saved build is served by both workers at once, each swap reason "fleet"', async () => {
  const library = await buildC(tickSource(1));
  const next = await readFile(await buildC(tickSource(5)));
  const cli = new Cli(['run', library, '--fn', TICK, '--arg', '1', '--every', '50', '--watch', '--cluster', '2', '--json']);
  try {
    const fleet = await cli.next((e) => e.event === 'fleet');
    assert.equal(fleet.members, 2);
    await cli.next(isCall(2));
    await save(library, next);
    const swapped = await cli.next((e) => e.event === 'fleet-swap');
    assert.equal(swapped.members, 2);
    assert.equal(typeof swapped.skewMs, 'number');
    const swaps = cli.events.filter((e) => e.event === 'swap');
    assert.deepEqual(swaps.map((e) => e.reason), ['fleet', 'fleet'], 'each worker swapped once, driven by the fleet');
    await cli.next(isCall(6), cli.events.indexOf(swapped));
  } finally {
    assert.equal(await cli.interrupt(), 0);
  }
  assert.deepEqual(cli.events.filter((e) => e.event === 'error'), []);
  assert.equal(cli.events.filter((e) => e.event === 'load').length, 2);
});

test('--cluster 2 --build: the primary builds; a source edit is one fleet swap', async () => {
  const dir = await makeTempDir();
  await writeFile(join(dir, 'game.c'), tickSource(1));
  const cli = new Cli(['run', './libgame.so', '--fn', TICK, '--arg', '1', '--every', '50', '--build', 'cc -shared -fPIC -o libgame.so game.c', '--src', '.', '--cluster', '2', '--json'], dir);
  try {
    await cli.next((e) => e.event === 'fleet');
    await cli.next(isCall(2));
    await writeFile(join(dir, 'game.c'), tickSource(5));
    const swapped = await cli.next((e) => e.event === 'fleet-swap');
    assert.equal(swapped.members, 2);
    await cli.next(isCall(6), cli.events.indexOf(swapped));
    assert.equal(cli.events.filter((e) => e.event === 'build').length, 2, 'one build at start, one for the edit');
  } finally {
    assert.equal(await cli.interrupt(), 0);
  }
  assert.deepEqual(cli.events.filter((e) => e.event === 'error'), []);
});

test('--cluster refuses --on-enter', async () => {
  const cli = new Cli(['run', 'lib.so', '--fn', TICK, '--arg', '1', '--on-enter', '--cluster', '2']);
  assert.equal(await cli.exited, 2);
  assert.match(cli.stderr, /--on-enter does not go with --cluster/);
});
