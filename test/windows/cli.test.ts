// The isoswap command under Windows Node (run by the Windows lane): run on a DLL found by
// a glob, "did you mean" for a lib-prefixed name, a build tree ended as one, init.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runBuild } from '../../src/cli/build-watcher.js';
import { createIsolatedHost } from '../../src/index.js';
import { Cli, TICK } from '../helpers/cli.js';
import { install, removeDirs, tempDir } from './windows-helpers.js';

/** Bounds every wait for a file another process writes. */
const WAIT_MS = 30_000;

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the CLI on Windows', () => {
  after(removeDirs);

  test('isoswap run serves the one DLL a glob matches, with --json events', async () => {
    const dir = tempDir();
    install('tick1.dll', join(dir, 'game.dll'));
    const cli = new Cli(['run', join(dir, '*.dll'), '--fn', TICK, '--arg', '1', '--every', '50', '--json']);
    try {
      const load = await cli.next((e) => e.event === 'load');
      assert.match(String(load.library), /game\.dll$/);
      const call = await cli.next((e) => e.event === 'call');
      assert.equal(call.result, 2);
    } finally {
      cli.child.kill();
      await cli.exited;
    }
  });

  test('a lib-prefixed name that does not exist: "did you mean game.dll"', async () => {
    const dir = tempDir();
    install('tick1.dll', join(dir, 'game.dll'));
    const cli = new Cli(['run', join(dir, 'libgame.dll'), '--fn', TICK, '--arg', '1', '--every', '50']);
    assert.notEqual(await cli.exited, 0);
    assert.match(cli.stderr, /did you mean game\.dll/);
  });

  test('an aborted build ends its whole tree (a job object)', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const script = join(dir, 'build.cjs');
    writeFileSync(script, `const { spawn } = require('node:child_process');
const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(grandchild.pid));
setInterval(() => {}, 1000);
`);
    const abort = new AbortController();
    const built = runBuild(`"${process.execPath}" "${script}"`, abort.signal);
    const deadline = Date.now() + WAIT_MS;
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') {
      assert.ok(Date.now() < deadline, 'the build never started its grandchild');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(running(grandchild));
    abort.abort();
    const result = await Promise.race([built, new Promise<never>((_resolve, reject) => {
      setTimeout(() => reject(new Error(`the build did not end (grandchild running: ${running(grandchild)})`)), WAIT_MS).unref();
    })]);
    assert.equal(result.ok, false);
    assert.equal(result.aborted, true);
    assert.equal(running(grandchild), false, 'the grandchild ended with the build');
  });

  test('isoswap init writes a project that builds game.dll, and that build serves', async () => {
    const dir = join(tempDir(), 'mygame');
    const cli = new Cli(['init', dir]);
    assert.equal(await cli.exited, 0, cli.stderr);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { dev: string } };
    assert.match(pkg.scripts.dev, /^isoswap run \.\/game\.dll --fn "int32_t do_tick\(int32_t\)" .*--build "gcc -shared -O2 -o game\.dll game\.c"/);
    assert.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /^game\.dll$/m);
    // The lane built the same game.c with the same command (mingw's gcc): it serves.
    const library = install('starter.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({ library, functions: { do_tick: TICK }, state: { bytes: 64 } });
    try {
      assert.equal(await host.call('do_tick', 1), 1);
      assert.equal(await host.call('do_tick', 2), 2);
    } finally {
      await host.close();
    }
  });
});
