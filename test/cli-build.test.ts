// `isoswap run --build`: builds that behave. No build for the command's own writes or
// ignored files, one build per burst of saves, Ctrl-C ends a running build, and a
// broken first build (or a library not built yet) is waited for.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Cli, isCall, MAIN, processesInGroup, TICK } from './helpers/cli.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const BUILD = 'cc -shared -fPIC -o libgame.so game.c';
/** A tick that prints a line each call: output that keeps coming. */
const printingTick = (k: number): string => tickSource(k, '#include <stdio.h>\nint32_t say(int32_t t) { printf("tick %d\\n", t); return t; }');

/** Polls until `check()` holds; fails after 20 s. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; !(await check());) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const count = (text: string, word: string): number => text.split('\n').filter((l) => l.startsWith(word)).length;

test('output redirected into --src, and --ignore: no build without a source edit; an edit builds once and swaps', async () => {
  const dir = await makeTempDir();
  await writeFile(join(dir, 'game.c'), printingTick(1));
  await mkdir(join(dir, 'gen'));
  const run = `exec "${process.execPath}" "${MAIN}" run ./libgame.so --fn 'int32_t say(int32_t)' --arg '{tick}' --every 20 `
    + `--build '${BUILD}' --src . --ignore 'gen/**' > run.out 2>&1`;
  const child = spawn('sh', ['-c', run], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
  const exited = new Promise((resolve) => child.on('close', resolve));
  const out = (): Promise<string> => readFile(join(dir, 'run.out'), 'utf8').catch(() => '');
  const ticksPast = async (n: number): Promise<void> => {
    const start = count(await out(), 'tick ');
    await until(async () => count(await out(), 'tick ') >= start + n, `${n} more ticks:\n${await out()}`);
  };
  try {
    await until(async () => (await out()).includes('serving v1'), 'served');
    await ticksPast(20); // each tick line was a write into --src
    await writeFile(join(dir, 'gen', 'table.c'), '/* generated */\n');
    await ticksPast(20);
    assert.equal(count(await out(), 'building…'), 1, await out());
    await writeFile(join(dir, 'game.c'), printingTick(2));
    await until(async () => (await out()).includes('swap v1 → v2'), `swapped:\n${await out()}`);
    await ticksPast(20);
    assert.equal(count(await out(), 'building…'), 2, await out());
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, await out());
});

test('a burst of saves to several files is one build', async () => {
  const dir = await makeTempDir();
  const sources = (k: number): Record<string, string> => ({
    'game.h': `#define K ${k}\n`,
    'game.c': '#include <stdint.h>\n#include "game.h"\nint32_t helper(void);\nint32_t do_tick(int32_t x) { return x + helper(); }\n',
    'helper.c': `#include <stdint.h>\n#include "game.h"\nint32_t helper(void) { return K + ${k}; }\n`,
  });
  for (const [name, text] of Object.entries(sources(1))) await writeFile(join(dir, name), text);
  const cli = new Cli(['run', 'libgame.so', '--fn', TICK, '--arg', '0', '--json', '--every', '20',
    '--build', 'cc -shared -fPIC -o libgame.so game.c helper.c', '--src', '.'], dir);
  const builds = (): number => cli.events.filter((e) => e.event === 'building').length;
  try {
    await cli.next(isCall(2));
    for (const [name, text] of Object.entries(sources(50))) await writeFile(join(dir, name), text);
    const swap = await cli.next((e) => e.event === 'swap');
    await cli.next(isCall(100), cli.events.indexOf(swap));
    const calls = cli.events.length;
    await cli.until(() => cli.events.length > calls + 20, 'more calls');
    assert.equal(builds(), 2, 'the first build and one for the burst');
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});

test('Ctrl-C during a 30 s first build exits 0 at once and leaves no build process', async () => {
  const dir = await makeTempDir();
  const cli = new Cli(['run', 'libgame.so', '--fn', TICK, '--arg', '1', '--json', '--build', 'echo $$ > build.pid; sleep 30', '--src', '.'], dir);
  await cli.next((e) => e.event === 'building');
  let pgid = 0;
  await until(async () => (pgid = Number(await readFile(join(dir, 'build.pid'), 'utf8').catch(() => '0'))) > 0, 'the build started');
  assert.ok((await processesInGroup(pgid)).length > 0, 'the build runs in its own process group');
  const interrupted = Date.now();
  assert.equal(await cli.interrupt(), 0, cli.stderr);
  assert.ok(Date.now() - interrupted < 10_000, 'not after the 30 s build');
  await until(async () => (await processesInGroup(pgid)).length === 0, 'the build group is gone');
  assert.ok(!cli.events.some((e) => e.event === 'error'), 'an ended build is no failure');
});

test('a first build that fails waits for the fix, then serves it', async () => {
  const dir = await makeTempDir();
  await writeFile(join(dir, 'game.c'), 'int do_tick(int x) { return x +; }\n');
  const cli = new Cli(['run', 'libgame.so', '--fn', TICK, '--arg', '1', '--json', '--every', '20', '--build', BUILD, '--src', '.'], dir);
  try {
    const error = await cli.next((e) => e.event === 'error');
    assert.equal(error.code, 'ERR_BUILD_FAILED');
    assert.match(String((error.details as { output: string }).output), /error/);
    await cli.next((e) => e.event === 'waiting');
    await writeFile(join(dir, 'game.c'), tickSource(10));
    const load = await cli.next((e) => e.event === 'load');
    assert.equal(load.version, 1);
    await cli.next(isCall(11));
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});

test('--watch on a library not built yet waits for it', async () => {
  const library = join(await makeTempDir(), 'libgame.so');
  const cli = new Cli(['run', library, '--fn', TICK, '--arg', '1', '--json', '--every', '20', '--watch']);
  try {
    assert.equal((await cli.next((e) => e.event === 'error')).code, 'ERR_LIBRARY_NOT_FOUND');
    await cli.next((e) => e.event === 'waiting');
    await buildC(tickSource(4), library);
    await cli.next(isCall(5));
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});
