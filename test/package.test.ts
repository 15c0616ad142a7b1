// What `npm pack` ships: the built library, its types, the worker entry points, the C
// header and example sources, README, LICENSE, CHANGELOG and docs/ (the README links
// there); never the tests or the benchmarks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

test('npm pack ships dist, types, README, LICENSE and native/include, and no tests', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  const files = pack!.files.map((f) => f.path);
  for (const wanted of [
    'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/host/isolated-host.d.ts', 'dist/src/cli/main.js',
    'dist/workers/thread-worker.cjs', 'dist/workers/process-worker.cjs', 'README.md', 'LICENSE', 'CHANGELOG.md', 'package.json',
    'docs/architecture.md', 'native/c/game.c',
  ]) {
    assert.ok(files.includes(wanted), `${wanted} is shipped`);
  }
  assert.ok(files.some((f) => f.startsWith('native/include/')), 'the C header is shipped');
  const unwanted = files.filter((f) => /(^|\/)(test|benchmarks|examples)\//.test(f) || f.endsWith('.test.js') || f.includes('/target/'));
  assert.deepEqual(unwanted, [], 'no tests, benchmarks, examples or build products');
});

test('every relative link in the shipped README and docs points at a shipped file', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  const shipped = new Set(pack!.files.map((f) => f.path));
  const broken: string[] = [];
  for (const doc of [...shipped].filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(REPO, doc), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (target === undefined || /^[a-z]+:/.test(target)) continue;
      const path = posix.normalize(posix.join(posix.dirname(doc), target)).replace(/\/$/, '');
      if (!shipped.has(path) && ![...shipped].some((f) => f.startsWith(`${path}/`))) broken.push(`${doc} -> ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});
