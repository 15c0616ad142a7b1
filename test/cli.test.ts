import assert from 'node:assert/strict';
import { copyFile, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Cli, isCall, MAIN, save, TICK } from './helpers/cli.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

test('--help on every command, usage errors exit 2, and the bin symlink runs', async () => {
  const top = new Cli(['--help']);
  assert.equal(await top.exited, 0);
  assert.match(top.stdout, /Usage: isoswap <command>/);
  for (const args of [['run', '--help'], ['help', 'run'], ['run', '-h']]) {
    const run = new Cli(args);
    assert.equal(await run.exited, 0);
    assert.match(run.stdout, /--every <ms>/);
  }
  for (const args of [['init', '--help'], ['help', 'init']]) {
    const init = new Cli(args);
    assert.equal(await init.exited, 0);
    assert.match(init.stdout, /--lang <lang>/);
  }
  const bad = new Cli(['run', 'libgame.so']);
  assert.equal(await bad.exited, 2);
  assert.match(bad.stderr, /--fn/);

  assert.equal((await readFile(MAIN, 'utf8')).split('\n')[0], '#!/usr/bin/env node');
  const bin = join(await makeTempDir(), 'isoswap');
  await symlink(MAIN, bin);
  const linked = new Cli(['--version'], undefined, bin);
  assert.equal(await linked.exited, 0);
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(linked.stdout.trim(), pkg.version);
});

test('run --json --every 20 --watch: calls answered, swap on save, error event for a broken build, exit 0 on SIGINT', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  await buildC(tickSource(1), library);
  const v2 = await readFile(await buildC(tickSource(2)));
  const cli = new Cli(['run', library, '--fn', TICK, '--arg', '1', '--json', '--every', '20', '--watch']);
  try {
    const load = await cli.next((e) => e.event === 'load');
    assert.equal(load.version, 1);
    assert.deepEqual(await cli.next(isCall(2)), { event: 'call', fn: 'do_tick', args: [1], result: 2 });

    await save(library, v2);
    const swap = await cli.next((e) => e.event === 'swap');
    assert.deepEqual([swap.from, swap.to, swap.reason], [1, 2, 'watch']);
    await cli.next(isCall(3), cli.events.indexOf(swap));
    await cli.next((e) => e.event === 'retired' && e.version === 1);

    await save(library, Buffer.from('this is not a library'));
    const error = await cli.next((e) => e.event === 'error');
    assert.equal(error.code, 'ERR_NOT_A_LIBRARY');
    await cli.next(isCall(3), cli.events.indexOf(error)); // the good build serves on
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
  assert.ok(cli.events.some((e) => e.event === 'retired' && e.version === 2), 'close retires the last version');
  const calls = cli.events.filter((e) => e.event === 'call');
  assert.ok(calls.every((e) => e.result === 2 || e.result === 3));
  assert.equal(cli.events.filter((e) => e.event === 'error').length, 1);
});

test('run --build with a C source: an edited source is rebuilt and served; a broken one is ERR_BUILD_FAILED with the compiler output', async () => {
  const dir = await makeTempDir();
  await writeFile(join(dir, 'game.c'), tickSource(10));
  // Its products land in --src too (an object file, a log): they must not start builds.
  const build = 'gcc -c -fPIC -o game.o game.c && gcc -shared -o libgame.so game.o > build.log 2>&1';
  const cli = new Cli(['run', 'libgame.so', '--fn', TICK, '--arg', '0', '--json', '--every', '20', '--build', build, '--src', '.'], dir);
  try {
    await cli.next((e) => e.event === 'build' && e.ok === true);
    await cli.next(isCall(10));
    await writeFile(join(dir, 'game.c'), tickSource(20));
    const swap = await cli.next((e) => e.event === 'swap');
    await cli.next(isCall(20), cli.events.indexOf(swap));

    await writeFile(join(dir, 'game.c'), 'int32_t do_tick(int32_t x) { return x +; }\n');
    const error = await cli.next((e) => e.event === 'error');
    assert.equal(error.code, 'ERR_BUILD_FAILED');
    assert.match(String((error.details as { output: string }).output), /error/);
    await cli.next(isCall(20), cli.events.indexOf(error));

    await writeFile(join(dir, 'game.c'), tickSource(30));
    await cli.next(isCall(30));
    // A build whose own files started builds would go on for ever: it must come to rest.
    const builds = (): number => cli.events.filter((e) => e.event === 'build').length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const settled = builds();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(builds(), settled, 'no build without an edit');
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});

test('run --on-enter: Enter reloads; human output prints a line per swap', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  await buildC(tickSource(1), library);
  const next = await buildC(tickSource(5));
  const cli = new Cli(['run', library, '--fn', TICK, '--arg', '1', '--on-enter']);
  try {
    await cli.printed('do_tick(1) = 2');
    await copyFile(next, `${library}.new`);
    await rename(`${library}.new`, library);
    cli.child.stdin.write('\n');
    await cli.printed('do_tick(1) = 6');
    assert.match(cli.stdout, /serving v1 [0-9a-f]{8} libgame\.so/);
    assert.match(cli.stdout, /swap v1 → v2 [0-9a-f]{8} in [\d.]+ ms \(reload\)/);
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});

test('run --isolation process --watch: the version runs in a child process of the CLI, and a save swaps it', async () => {
  const library = await buildC(tickSource(4));
  const next = await readFile(await buildC(tickSource(6)));
  const cli = new Cli(['run', library, '--fn', TICK, '--arg', '1', '--json', '--every', '20', '--isolation', 'process', '--watch']);
  try {
    await cli.next(isCall(5));
    const pid = cli.child.pid!;
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    assert.notEqual(children.trim(), '', 'the CLI has a child process');
    await save(library, next);
    const swap = await cli.next((e) => e.event === 'swap');
    await cli.next(isCall(7), cli.events.indexOf(swap));
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});

test('run exits 1 with the error when the library cannot be served', async () => {
  const cli = new Cli(['run', '/nonexistent/libgame.so', '--fn', TICK, '--arg', '1', '--json']);
  assert.equal(await cli.exited, 1);
  assert.equal(cli.events[0]?.event, 'error');
  assert.equal(cli.events[0]?.code, 'ERR_LIBRARY_NOT_FOUND');
});

test('usage errors name the problem: a typo gets a suggestion, arguments are checked against the prototype, --src must exist', async () => {
  const dir = await makeTempDir();
  const cases: Array<[string[], RegExp]> = [
    [['--evry', '20'], /unknown option --evry \(did you mean --every\?\)/],
    [['--arg', '3000000000'], /do_tick argument 1 \(int32_t\): 3000000000 is out of range -2147483648\.\.2147483647/],
    [['--arg', '1.5'], /1\.5 is not an integer/],
    [['--arg', '1', '--arg', '2'], /do_tick takes 1 argument/],
    [['--arg', '1', '--build', 'make', '--src', join(dir, 'missing')], /--src .*missing: no such directory/],
    [['--arg', '1', '--state', '0'], /--state takes a whole number >= 1/],
    [['--arg'], /--arg needs a value/],
  ];
  for (const [args, message] of cases) {
    const cli = new Cli(['run', 'libgame.so', '--fn', TICK, ...args]);
    assert.equal(await cli.exited, 2, args.join(' '));
    assert.match(cli.stderr, message);
  }
});

test('--arg -5 is a value, per-function arguments, {tick} counts, a void call has no result', async () => {
  const library = await buildC(tickSource(1, 'int32_t add(int32_t a, int32_t b) { return a + b; }\nvoid reset(void) {}'));
  const cli = new Cli(['run', library, '--fn', TICK, '--arg', '-5', '--fn', 'int32_t add(int32_t, int32_t)=100,{tick}', '--fn', 'void reset(void)', '--every', '10', '--json']);
  try {
    await cli.next((e) => e.event === 'call' && e.fn === 'add' && e.result === 103);
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
  const calls = cli.events.filter((e) => e.event === 'call');
  assert.deepEqual(calls.slice(0, 3), [
    { event: 'call', fn: 'do_tick', args: [-5], result: -4 },
    { event: 'call', fn: 'add', args: [100, 0], result: 100 },
    { event: 'call', fn: 'reset', args: [] },
  ]);
  const adds = calls.filter((e) => e.fn === 'add').map((e) => e.result);
  assert.deepEqual(adds.slice(0, 4), [100, 101, 102, 103], 'one tick more per round');

  const human = new Cli(['run', library, '--fn', 'void reset(void)']);
  try {
    await human.printed('reset()\n');
  } finally {
    assert.equal(await human.interrupt(), 0, human.stderr);
  }
  assert.doesNotMatch(human.stdout, /undefined/);
});

test('--every with --on-enter: ticks go on, Enter on unchanged bytes says so, Enter after a build swaps', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  await buildC(tickSource(1), library);
  const v2 = await readFile(await buildC(tickSource(1000)));
  const cli = new Cli(['run', library, '--fn', TICK, '--arg', '{tick}', '--every', '10', '--on-enter', '--json']);
  try {
    await cli.next(isCall(3)); // tick 2
    cli.child.stdin.write('\n');
    const unchanged = await cli.next((e) => e.event === 'unchanged');
    assert.equal(unchanged.version, 1);
    // The ticks went on (a call after it; which tick depends on how busy the machine is)
    await cli.next((e) => e.event === 'call', cli.events.indexOf(unchanged));
    await save(library, v2);
    cli.child.stdin.write('\n');
    const swap = await cli.next((e) => e.event === 'swap');
    assert.deepEqual([swap.from, swap.to, swap.reason], [1, 2, 'reload']);
    await cli.next((e) => e.event === 'call' && Number(e.result) > 1000, cli.events.indexOf(swap));
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
  assert.ok(!cli.events.some((e) => e.event === 'swap' && e.to !== 2), 'the unchanged Enter loaded nothing');
});

test('--state, --lib-path, --call-timeout and --isolation process combine: the state survives a swap', async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libcount.so');
  const counter = (step: number): string => `#include <stdint.h>
#include <stddef.h>
static int32_t own, *count = &own;
int32_t isoswap_load(void *state, uint32_t bytes) { if (state != NULL && bytes >= 4) count = state; return 0; }
void isoswap_unload(void *state, uint32_t bytes) { (void)state; (void)bytes; count = &own; }
int32_t bump(void) { return *count += ${step}; }
`;
  await buildC(counter(1), library);
  const next = await readFile(await buildC(counter(1000)));
  const cli = new Cli(['run', library, '--fn', 'int32_t bump(void)', '--every', '10', '--json',
    '--state', '64', '--lib-path', dir, '--call-timeout', '5000', '--isolation', 'process', '--watch']);
  try {
    await cli.next((e) => e.event === 'call' && Number(e.result) >= 3);
    await save(library, next);
    const swap = await cli.next((e) => e.event === 'swap');
    // A call in flight on the old version may print after the swap event: judge by the
    // results, not by where they stand. The old version steps by 1, the new one by 1000.
    await cli.next((e) => e.event === 'call' && Number(e.result) >= 1000, cli.events.indexOf(swap));
    const results = cli.events.filter((e) => e.event === 'call').map((e) => Number(e.result));
    const steps = results.slice(1).map((r, i) => r - results[i]!);
    assert.equal(steps.find((step) => step !== 1), 1000, 'the new version counts on from the old one\'s state');
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});
