// `isoswap init`: a starter project that runs with its one command (the package.json
// "dev" script, with `isoswap` being the command built here) and swaps on the first save.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Cli, MAIN } from './helpers/cli.js';
import { cargoAvailable, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const STARTERS = {
  c: { edit: 'game.c', speed: (n: number) => `#define SPEED ${n}` },
  rust: { edit: 'src/lib.rs', speed: (n: number) => `const SPEED: i32 = ${n};` },
} as const;

/** The x values printed at `speed`, in order. */
const xs = (stdout: string, speed: number): number[] =>
  [...stdout.matchAll(new RegExp(`x = (\\d+) \\(speed ${speed}\\)`, 'g'))].map((m) => Number(m[1]));

for (const lang of ['c', 'rust'] as const) {
  const skip = lang === 'rust' && !cargoAvailable() ? 'cargo is not on the PATH' : false;
  test(`init --lang ${lang}: "npm run dev"'s command builds, serves, and swaps on a save with the state kept`, { skip }, async () => {
    const parent = await makeTempDir();
    const dir = join(parent, 'my-game');
    const init = new Cli(['init', dir, '--lang', lang]);
    assert.equal(await init.exited, 0, init.stderr);
    const again = new Cli(['init', dir]);
    assert.equal(await again.exited, 2, 'a folder that is not empty is refused');
    assert.match(again.stderr, /is not empty/);
    if (lang === 'rust') {
      const toml = await readFile(join(dir, 'Cargo.toml'), 'utf8');
      assert.equal(toml.split('[dependencies]')[1]?.trim(), '', 'no dependencies: it builds offline');
    }
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { scripts: { dev: string } };
    assert.match(await readFile(join(dir, 'README.md'), 'utf8'), /npm run dev/);
    // `isoswap` on the PATH is the command built here, not a published one.
    const bin = join(parent, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'isoswap'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`, { mode: 0o755 });
    process.env['PATH'] = `${bin}:${process.env['PATH']}`;
    process.env['CARGO_NET_OFFLINE'] = 'true';
    delete process.env['CARGO_TARGET_DIR'];
    const starter = STARTERS[lang];
    const cli = new Cli(['-c', `exec ${pkg.scripts.dev}`], dir, undefined, 'sh');
    try {
      await cli.printed('serving v1');
      await cli.until(() => xs(cli.stdout, 1).length >= 2, 'ticks at speed 1');
      const source = await readFile(join(dir, starter.edit), 'utf8');
      assert.ok(source.includes(starter.speed(1)));
      await writeFile(join(dir, starter.edit), source.replace(starter.speed(1), starter.speed(7)));
      await cli.printed('swap v1 → v2');
      await cli.until(() => xs(cli.stdout, 7).length >= 1, 'a tick at speed 7');
    } finally {
      assert.equal(await cli.interrupt(), 0, cli.stderr);
    }
    const before = xs(cli.stdout, 1).at(-1)!;
    assert.equal(xs(cli.stdout, 7)[0], before + 7, 'x counts on from the old version\'s state');
  });
}
