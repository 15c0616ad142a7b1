// `@example` belongs to the public API only: the files whose declarations src/index.ts
// exports. Internal helpers say why in prose; an example there goes stale unread.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function sources(folder: string): Promise<string[]> {
  const entries = await readdir(`${ROOT}${folder}`, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => posix.relative(ROOT, posix.join(e.parentPath, e.name)));
}

/** The files src/index.ts re-exports from, as repository paths. */
export function publicFiles(index: string): Set<string> {
  const files = new Set(['src/index.ts']);
  for (const [, from] of index.matchAll(/from '\.\/(.+?)\.js'/g)) files.add(`src/${from}.ts`);
  return files;
}

test('@example appears only in files of the public API (the ones src/index.ts exports from)', async () => {
  const allowed = publicFiles(await readFile(`${ROOT}src/index.ts`, 'utf8'));
  assert.ok(allowed.has('src/host/isolated-host.ts') && allowed.has('src/addon/addon-host.ts'), 'the index is read');
  const offenders: string[] = [];
  for (const file of [...await sources('src'), ...await sources('workers')]) {
    if (allowed.has(file)) continue;
    if ((await readFile(`${ROOT}${file}`, 'utf8')).includes('@example')) offenders.push(file);
  }
  assert.deepEqual(offenders, [], 'move the example to prose, or make the name public');
});
