// Each procedure written once: no `x` beside an `xSync` in a file of src/ (one awaiting,
// one blocking, walking the same steps); a procedure is one generator of steps that
// src/procedure.ts drives both ways. The public `call`/`callSync` pair, and the layers
// that carry it, are the one pair allowed: a call is one step, not a procedure.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = new URL('../../src/', import.meta.url);
const ALLOWED = new Set(['call']);

/** The functions and methods a file defines, by name. */
export function definitions(text: string): string[] {
  const names = new Set<string>();
  const patterns = [
    /^\s*(?:export\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/gm,
    /^\s*(?:(?:public|private|protected|static|async|override|readonly|get)\s+)*\*?\s*(#?[A-Za-z_$][\w$]*)\s*(?:<[^>\n]*>)?\s*\([^)\n]*\)?[^;\n]*\{\s*$/gm,
    /^\s*(?:export\s+)?(?:(?:private|static|readonly|const|let)\s+)*(#?[A-Za-z_$][\w$]*)\s*(?::[^=\n]*)?=\s*(?:async\s+)?(?:\([^)\n]*\)|[A-Za-z_$][\w$]*)\s*(?::[^=\n]*)?=>/gm,
  ];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) names.add(m[1]!.replace(/^#/, ''));
  return [...names];
}

/** Names defined both as `x` and `xSync` in one file, the allowed ones aside. */
export function syncPairs(files: ReadonlyMap<string, string>): string[] {
  const pairs: string[] = [];
  for (const [file, text] of files) {
    const defined = new Set(definitions(text));
    for (const name of defined) {
      const base = name.endsWith('Sync') ? name.slice(0, -'Sync'.length) : null;
      if (base !== null && !ALLOWED.has(base) && defined.has(base)) pairs.push(`${file}: ${base} ~ ${name}`);
    }
  }
  return pairs;
}

async function sources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const names = await readdir(fileURLToPath(SRC), { recursive: true });
  for (const name of names.filter((n) => n.endsWith('.ts'))) files.set(`src/${name}`, await readFile(new URL(name, SRC), 'utf8'));
  return files;
}

test('no procedure is written twice, as x and xSync (call/callSync aside)', async () => {
  assert.deepEqual(syncPairs(await sources()), []);
});

test('the check sees a pair when one is added', () => {
  const files = new Map([
    ['src/a.ts', 'export class A {\n  async load(source: string): Promise<void> {\n  }\n  call(x: number): void {\n  }\n}\n'],
    ['src/b.ts', 'export class B {\n  loadSync(source: string): void {\n  }\n  callSync(x: number): void {\n  }\n}\nexport function writeSync(x: number): void {\n}\nconst write = async (x: number): Promise<void> => {};\n'],
  ]);
  assert.deepEqual(syncPairs(files), ['src/b.ts: write ~ writeSync']);
  files.set('src/a.ts', `${files.get('src/a.ts')}export function loadSync(source: string): void {\n}\n`);
  assert.deepEqual(syncPairs(files).sort(), ['src/a.ts: load ~ loadSync', 'src/b.ts: write ~ writeSync']);
});
