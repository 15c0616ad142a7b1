import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFile, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TICK = 'int32_t do_tick(int32_t)';

type Event = Record<string, unknown> & { event: string };

/** `isoswap` spawned with node; its JSON lines (or text) collected as they come. */
class Cli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly events: Event[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  #waiters: Array<() => void> = [];

  constructor(args: string[], cwd?: string, script = MAIN) {
    this.child = spawn(process.execPath, [script, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let partial = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) this.events.push(JSON.parse(line) as Event);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** The first event after index `from` that `pred` accepts; fails after 15 s. */
  async next(pred: (e: Event) => boolean, from = 0): Promise<Event> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = this.events.slice(from).find(pred);
      if (found !== undefined) return found;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`no such event; got:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise<void>((wake) => { this.#waiters.push(wake); setTimeout(wake, 200); });
    }
  }

  /** Waits until stdout contains `text`. */
  async printed(text: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!this.stdout.includes(text)) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`"${text}" never printed; got:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise<void>((wake) => { this.#waiters.push(wake); setTimeout(wake, 200); });
    }
  }

  async interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }
}

const isCall = (result: number) => (e: Event): boolean => e.event === 'call' && e.result === result;

/** Writes `bytes` beside `library` and renames them into place, as a linker does. */
async function save(library: string, bytes: Buffer): Promise<void> {
  await writeFile(`${library}.new`, bytes);
  await rename(`${library}.new`, library);
}

test('--help on every command, usage errors exit 2, and the bin symlink runs', async () => {
  const top = new Cli(['--help']);
  assert.equal(await top.exited, 0);
  assert.match(top.stdout, /Usage: isoswap <command>/);
  for (const args of [['run', '--help'], ['help', 'run'], ['run', '-h']]) {
    const run = new Cli(args);
    assert.equal(await run.exited, 0);
    assert.match(run.stdout, /--every <ms>/);
  }
  const bad = new Cli(['run', 'libgame.so']);
  assert.equal(await bad.exited, 2);
  assert.match(bad.stderr, /--fn/);
  const both = new Cli(['run', 'libgame.so', '--fn', TICK, '--every', '10', '--on-enter']);
  assert.equal(await both.exited, 2);

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
  const cli = new Cli(['run', '/nonexistent/libgame.so', '--fn', TICK, '--json']);
  assert.equal(await cli.exited, 1);
  assert.equal(cli.events[0]?.event, 'error');
  assert.equal(cli.events[0]?.code, 'ERR_LIBRARY_NOT_FOUND');
});
