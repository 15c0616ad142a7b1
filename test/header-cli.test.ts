// The command line of `header`: `isoswap types` writes the module the type test compiles,
// and `isoswap run --header` calls functions by name only.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/header/', import.meta.url));
const GAME_H = join(FIXTURES, 'game.h');

/** Runs `isoswap ...args`; resolves with the exit code and output, whatever the code. */
async function isoswap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

test('isoswap types writes the module the type test compiles, to stdout or --out', async () => {
  const committed = await readFile(join(FIXTURES, 'game-functions.ts'), 'utf8');
  const printed = await isoswap('types', GAME_H);
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(printed.stdout, committed, 'test/fixtures/header/game-functions.ts is what `isoswap types` writes for game.h');
  const out = join(await makeTempDir(), 'functions.ts');
  assert.equal((await isoswap('types', GAME_H, '--out', out)).code, 0);
  assert.equal(await readFile(out, 'utf8'), committed);
});

test('isoswap types: an unmappable function exits 1 naming its line; usage errors exit 2', async () => {
  const bad = join(await makeTempDir(), 'bad.h');
  await writeFile(bad, '#include <stdint.h>\nint32_t ok(void);\nvoid every(void (*callback)(void));\n');
  const failed = await isoswap('types', bad);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /ERR_HEADER .*bad\.h:3: every: parameter callback: .*callback/);
  assert.equal((await isoswap('types')).code, 2);
  const help = await isoswap('help', 'types');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: isoswap types <header>/);
});

test('isoswap run --header game.h --fn do_tick=5 calls by name only', async () => {
  const library = await buildC(await readFile(join(FIXTURES, 'game.c'), 'utf8'), undefined, [`-I${FIXTURES}`]);
  const child = spawn(process.execPath, [MAIN, 'run', library, '--header', GAME_H, '--fn', 'do_tick=5', '--json']);
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no call within 15 s: ${stdout}`)), 15_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('"event":"call"')) { clearTimeout(timer); resolve(); }
      });
    });
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0);
  const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(events.filter((e) => e['event'] === 'call').map((e) => [e['fn'], e['args'], e['result']]), [['do_tick', [5], 5]]);
});
