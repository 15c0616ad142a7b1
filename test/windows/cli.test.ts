// The isoswap command under Windows Node (run by the Windows lane): run on a DLL found by
// a glob, --build with --json (an edit is one build and one swap), --on-enter in process
// isolation, "did you mean" for a
// lib-prefixed name, a build tree ended as one (aborted, and by Ctrl-C pressed at the
// console: a helper exe does what kill('SIGINT') cannot on Windows), init.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runBuild } from '../../src/cli/build-watcher.js';
import { createIsolatedHost } from '../../src/index.js';
import { Cli, MAIN, TICK } from '../helpers/cli.js';
import { fixturePath } from './dll-fixtures.js';
import { install, removeDirs, running, tempDir } from './windows-helpers.js';

const fixtureDir = (): string => dirname(fixturePath('tick1.dll'));

/** Bounds every wait for a file another process writes. */
const WAIT_MS = 30_000;

/** `arg` quoted for a Windows command line (CommandLineToArgvW's rules, for arguments
 *  that end in no backslash). */
function windowsArg(arg: string): string {
  return /[\s"]/.test(arg) ? `"${arg.replaceAll('"', '\\"')}"` : arg;
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

  for (const isolation of ['thread', 'process']) {
    test(`isoswap run --json --isolation ${isolation}: what the DLL prints through msvcrt comes as output events, its unload's unflushed line too`, async () => {
      const dir = tempDir();
      const library = install('chatty1.dll', join(dir, 'game.dll'));
      const cli = new Cli(['run', library, '--fn', TICK, '--arg', '5', '--every', '50', '--json', '--on-enter', '--isolation', isolation]);
      try {
        await cli.next((e) => e.event === 'output' && e.stream === 'stdout' && e.text === 'tick 5 from 1');
        await cli.next((e) => e.event === 'output' && e.stream === 'stderr' && e.text === 'warn 1');
        install('chatty2.dll', library);
        cli.child.stdin.write('\n');
        await cli.next((e) => e.event === 'swap');
        await cli.next((e) => e.event === 'output' && e.text === 'unloading 1');
        await cli.next((e) => e.event === 'output' && e.text === 'tick 5 from 2');
        assert.doesNotMatch(cli.stdout, /^(tick|warn|unloading)/m, 'no line of the library outside an event');
      } finally {
        cli.child.kill();
        await cli.exited;
      }
    });
  }

  test('isoswap run --build --json: a source edit runs the build, whose DLL is swapped in and served', async () => {
    const dir = tempDir();
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'which.txt'), 'tick1.dll');
    // The "linker": copies the fixture the source names beside game.dll, then renames it into
    // place, retrying a rename Wine refuses while a watcher has the old file open.
    const script = join(dir, 'build.cjs');
    writeFileSync(script, `const fs = require('node:fs'), path = require('node:path');
const which = fs.readFileSync(${JSON.stringify(join(src, 'which.txt'))}, 'utf8').trim();
const target = ${JSON.stringify(join(dir, 'game.dll'))};
fs.copyFileSync(path.join(${JSON.stringify(fixtureDir())}, which), target + '.tmp');
for (let attempt = 1; ; attempt++) {
  try { fs.renameSync(target + '.tmp', target); break; } catch (err) {
    if (err.code !== 'EPERM' || attempt === 40) throw err;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
  }
}
console.log('linked ' + which);
`);
    const cli = new Cli(['run', join(dir, 'game.dll'), '--fn', TICK, '--arg', '1', '--every', '20', '--json',
      '--build', `"${process.execPath}" "${script}"`, '--src', src]);
    try {
      await cli.next((e) => e.event === 'call' && e.result === 2);
      const builds = cli.events.filter((e) => e.event === 'building').length;
      writeFileSync(join(src, 'which.txt'), 'tick2.dll');
      const swap = await cli.next((e) => e.event === 'swap');
      await cli.next((e) => e.event === 'call' && e.result === 3, cli.events.indexOf(swap));
      assert.equal(cli.events.filter((e) => e.event === 'building').length, builds + 1, 'one build for the edit');
    } finally {
      cli.child.kill();
      await cli.exited;
    }
  });

  test('isoswap run --on-enter: Enter on stdin reloads the DLL saved meanwhile, with --isolation process', async () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const cli = new Cli(['run', library, '--fn', TICK, '--arg', '1', '--every', '20', '--json', '--on-enter', '--isolation', 'process']);
    try {
      await cli.next((e) => e.event === 'call' && e.result === 2);
      install('tick2.dll', library);
      cli.child.stdin.write('\n');
      const swap = await cli.next((e) => e.event === 'swap');
      await cli.next((e) => e.event === 'call' && e.result === 3, cli.events.indexOf(swap));
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

  test('Ctrl-C pressed at the console of isoswap run ends a running build, its whole tree (the job object), and exits 0', async () => {
    const dir = tempDir();
    install('tick1.dll', join(dir, 'game.dll'));
    const src = join(dir, 'src');
    mkdirSync(src);
    const pidFile = join(dir, 'grandchild.pid');
    const script = join(dir, 'build.cjs');
    // Ctrl-C reaches every process of the console: the build and its grandchild ignore it,
    // so that only the job object can end them.
    writeFileSync(script, `process.on('SIGINT', () => {});
const { spawn } = require('node:child_process');
const grandchild = spawn(process.execPath, ['-e', "process.on('SIGINT', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(grandchild.pid));
setInterval(() => {}, 1000);
`);
    const trigger = join(dir, 'press-ctrl-c');
    const output = join(dir, 'output.txt');
    const line = [process.execPath, MAIN, 'run', join(dir, 'game.dll'), '--fn', TICK, '--arg', '1', '--json',
      '--build', `"${process.execPath}" "${script}"`, '--src', src].map(windowsArg).join(' ');
    const user = spawn(fixturePath('ctrlc.exe'), [trigger, output, line], { stdio: 'ignore' });
    const exited = once(user, 'exit') as Promise<[number | null]>;
    const deadline = Date.now() + WAIT_MS;
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') {
      assert.ok(Date.now() < deadline && user.exitCode === null, `the build never started its grandchild:\n${existsSync(output) ? readFileSync(output, 'utf8') : ''}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(running(grandchild));
    writeFileSync(trigger, '');
    const [code] = await exited;
    assert.equal(code, 0, readFileSync(output, 'utf8'));
    assert.equal(running(grandchild), false, 'the grandchild ended with the build');
    assert.match(readFileSync(output, 'utf8'), /"event":"building"/);
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
