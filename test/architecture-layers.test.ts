// The floors of the house: a file may import files on its own floor or below, never above,
// and no chain of imports may come back to where it started. The direction is written once,
// here, as data; docs/architecture.md draws the same floors for readers.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);

/** Bottom first. A path is placed by its longest matching prefix (a folder ends in `/`). */
export const FLOORS: readonly (readonly string[])[] = [
  ['src/errors.ts', 'src/wire/', 'src/procedure.ts', 'src/async-dispose.ts'],
  ['src/options.ts'],
  ['src/library/', 'src/header/', 'src/platform/'],
  ['src/state/'],
  ['src/transport/'],
  ['src/runtime/'],
  ['src/version/', 'src/events.ts', 'src/diagnostics.ts', 'src/watch/', 'src/fleet/', 'workers/'],
  ['src/host/'],
  ['src/addon/'],
  ['src/cli/', 'src/index.ts'],
];

export function floorOf(file: string): number {
  let best = -1;
  let bestLength = -1;
  FLOORS.forEach((places, floor) => {
    for (const place of places) {
      const hit = place.endsWith('/') ? file.startsWith(place) : file === place;
      if (hit && place.length > bestLength) [best, bestLength] = [floor, place.length];
    }
  });
  return best;
}

/** Relative imports of one file, as repository paths of `.ts` files. */
export function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)\.js'/gm)].map((m) => m[1] ?? '');
  return specs.map((spec) => posix.normalize(posix.join(posix.dirname(file), `${spec}.ts`)));
}

/** Every import that points up a floor, as `from -> to`. */
export function upwardImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const up: string[] = [];
  for (const [from, targets] of graph) for (const to of targets) if (floorOf(to) > floorOf(from)) up.push(`${from} -> ${to}`);
  return up;
}

/** One cycle of imports, if there is any, as the files around it. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const to of graph.get(file) ?? []) {
      const cycle = visit(to);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

async function sourceGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const folder of ['src', 'workers']) {
    const names = await readdir(fileURLToPath(new URL(`${folder}/`, ROOT)), { recursive: true });
    for (const name of names.filter((n) => n.endsWith('.ts'))) {
      const file = `${folder}/${name.split('\\').join('/')}`;
      graph.set(file, importsOf(file, await readFile(new URL(file, ROOT), 'utf8')));
    }
  }
  return graph;
}

test('every file under src/ and workers/ has a floor', async () => {
  const graph = await sourceGraph();
  assert.deepEqual([...graph.keys()].filter((file) => floorOf(file) < 0), []);
});

test('no file imports a file on a higher floor', async () => {
  assert.deepEqual(upwardImports(await sourceGraph()), []);
});

test('no cycle of imports', async () => {
  assert.equal(findCycle(await sourceGraph())?.join(' -> '), undefined);
});

test('the check sees an upward import and a cycle when one is added', () => {
  const graph = new Map([
    ['src/transport/ring-codec.ts', ['src/host/swap-queue.ts']],
    ['src/host/swap-queue.ts', ['src/transport/ring-codec.ts']],
  ]);
  assert.deepEqual(upwardImports(graph), ['src/transport/ring-codec.ts -> src/host/swap-queue.ts']);
  assert.deepEqual(findCycle(graph), ['src/transport/ring-codec.ts', 'src/host/swap-queue.ts', 'src/transport/ring-codec.ts']);
  assert.deepEqual(importsOf('src/a/b.ts', "import { x } from '../c/d.js';\nexport * from './e.js';"), ['src/c/d.ts', 'src/a/e.ts']);
});

test('docs/architecture.md draws the same floors', async () => {
  const doc = await readFile(new URL('docs/architecture.md', ROOT), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Floors\n')) ?? '';
  const drawn = [...section.matchAll(/^\| (\d+) \| (.*) \|$/gm)].map((m) => [Number(m[1]), [...(m[2] ?? '').matchAll(/`([^`]+)`/g)].map((p) => p[1])] as const);
  assert.deepEqual(
    drawn.sort((a, b) => a[0] - b[0]).map(([, places]) => places),
    FLOORS.map((places) => [...places]),
  );
});
