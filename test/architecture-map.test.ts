// docs/architecture.md's map of files is a contract: every file under src/ and workers/
// has exactly one line there, and every line names a file that exists, so a new, moved or
// removed file cannot leave the map stale.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
const ARCHITECTURE = new URL('docs/architecture.md', ROOT);
const MAPPED_FOLDERS = ['src', 'workers'];

/** The `.ts` files under each folder, as repository paths (`src/host/swap-queue.ts`). */
async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const folder of MAPPED_FOLDERS) {
    const names = await readdir(fileURLToPath(new URL(`${folder}/`, ROOT)), { recursive: true });
    files.push(...names.filter((name) => name.endsWith('.ts')).map((name) => `${folder}/${name.split('\\').join('/')}`));
  }
  return files;
}

/** Each file row of `## Map of files`, as its folder heading (`### \`src/host/\``) + its name. */
function mappedFiles(doc: string): string[] {
  const section = doc.split(/^## /m).find((s) => s.startsWith('Map of files\n'));
  assert.ok(section !== undefined, 'a "## Map of files" section');
  let folder: string | null = null;
  const files: string[] = [];
  for (const line of section.split('\n')) {
    const heading = /^### `([^`]+\/)`\s*$/.exec(line);
    if (heading !== null) folder = heading[1] ?? null;
    const row = /^\| `([^`]+)` \| (.*) \|$/.exec(line);
    if (row === null) continue;
    assert.ok(folder !== null, `"${line}" comes before any ### folder heading`);
    assert.ok((row[2] ?? '').trim().length > 0, `${folder}${row[1]} has a description`);
    files.push(`${folder}${row[1]}`);
  }
  return files;
}

test('the map of files in docs/architecture.md lists every file under src/ and workers/ exactly once', async () => {
  const [files, mapped] = await Promise.all([sourceFiles(), readFile(ARCHITECTURE, 'utf8').then(mappedFiles)]);
  assert.ok(files.length > 0, 'src/ and workers/ hold .ts files');
  const twice = mapped.filter((file, i) => mapped.indexOf(file) !== i);
  assert.deepEqual(twice, [], 'files the map lists more than once');
  const existing = new Set(files);
  assert.deepEqual(mapped.filter((file) => !existing.has(file)), [], 'files the map names that do not exist');
  const listed = new Set(mapped);
  assert.deepEqual(files.filter((file) => !listed.has(file)).sort(), [], 'files the map does not list');
});
