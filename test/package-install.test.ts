// The package as a user gets it: the tarball `npm pack` makes, installed into a fresh folder
// with `npm install`, then the README's first program, `npx isoswap --help` and an example
// copied out of the repository, all run from that folder.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTempDir, removeTempDirs } from './helpers/native.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NPM_DEADLINE_MS = 240_000;

/** The fenced blocks of one README section, by their language tag. */
export function fencedBlocks(readme: string, heading: string): Array<{ lang: string; body: string }> {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  assert.ok(section !== undefined, `a "## ${heading}" section`);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? '', body: m[2] ?? '' }));
}

describe('the packed tarball, installed into a fresh folder', { timeout: NPM_DEADLINE_MS * 2 }, () => {
  let project: string;

  before(async () => {
    const packs = await makeTempDir('isoswap-pack-');
    // dist/ is built already (npm test builds first); --ignore-scripts keeps `prepare` from
    // rebuilding it under the feet of the tests running beside this one.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packs], { cwd: REPO, timeout: NPM_DEADLINE_MS });
    const [pack] = JSON.parse(stdout) as Array<{ filename: string }>;
    project = await makeTempDir('isoswap-user-');
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packs, pack!.filename)], { cwd: project, timeout: NPM_DEADLINE_MS });
  });
  after(removeTempDirs);

  test("the README's first program prints what the README says", async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const blocks = fencedBlocks(readme, 'A first program');
    const shell = blocks.find((b) => b.lang === 'sh');
    const program = blocks.find((b) => b.lang === 'js');
    const transcript = blocks.find((b) => b.lang === 'console');
    assert.ok(shell && program && transcript, 'a sh, a js and a console block');
    await run('bash', ['-euc', shell.body], { cwd: project, timeout: 60_000 });
    await writeFile(join(project, 'first.mjs'), program.body);
    const [command, ...expected] = transcript.body.trimEnd().split('\n');
    assert.equal(command, '$ node first.mjs');
    const { stdout } = await run(process.execPath, ['first.mjs'], { cwd: project, timeout: 60_000 });
    assert.deepEqual(stdout.trimEnd().split('\n'), expected);
  });

  test('npx isoswap --help prints the usage', async () => {
    const { stdout } = await run('npx', ['--no-install', 'isoswap', '--help'], { cwd: project, timeout: 60_000 });
    assert.match(stdout, /^Usage: isoswap <command>/m);
    assert.match(stdout, /run <library>/);
  });

  test('the demo, copied out of the repository, runs against the installed package', async () => {
    for (const file of ['game-loop.js', 'build-example.js']) {
      await copyFile(join(REPO, 'dist', 'examples', file), join(project, file));
    }
    const { stdout } = await run(process.execPath, ['game-loop.js', '--ticks', '3'], { cwd: project, timeout: 90_000, env: { ...process.env, NO_COLOR: '1' } });
    assert.match(stdout, /the process exits by itself/);
  });
});
