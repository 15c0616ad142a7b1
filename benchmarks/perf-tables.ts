// Rewrites the figure tables of docs/performance.md and the README from one run of
// `npm run bench` (its JSON lines), so that both come from the same run and can be made
// again: `node dist/benchmarks/perf-tables.js bench.jsonl "2026-12-07, 20:32–20:39 UTC"`.
// Each table sits between `<!-- perf-table:NAME -->` and `<!-- /perf-table:NAME -->`.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PERFORMANCE_ROWS, README_ROWS, type Figures, type Row } from './perf-rows.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The JSON lines of a bench run, by bench name, with `:isolation` or `:members` where a
 *  bench prints one line per each (a later line of the same name wins: a bench run again). */
export function readRun(text: string): Figures {
  const run = new Map<string, unknown>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const figures = JSON.parse(line) as Record<string, unknown>;
    const part = figures['isolation'] ?? figures['members'];
    const suffix = typeof part === 'string' || typeof part === 'number' ? `:${part}` : '';
    run.set(`${String(figures['bench'])}${suffix}`, figures);
  }
  return (bench, key) => {
    let value: unknown = run.get(bench);
    for (const step of key.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[step] : undefined;
    if (typeof value !== 'number') throw new Error(`the run has no number ${bench} ${key}`);
    return value;
  };
}

/** The markdown table of `rows`, with `header`'s columns. */
export function table(header: string[], rows: Row[], figures: Figures): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row(figures).join(' | ')} |`);
  return lines.join('\n');
}

/** `text` with what lies between the markers of table `name` replaced by `body`. */
export function replaceBlock(text: string, name: string, body: string): string {
  const open = `<!-- perf-table:${name} -->`;
  const close = `<!-- /perf-table:${name} -->`;
  const from = text.indexOf(open);
  const to = text.indexOf(close);
  if (from < 0 || to < from) throw new Error(`no ${open} … ${close} block`);
  return `${text.slice(0, from + open.length)}\n${body}\n${text.slice(to)}`;
}

function main(): void {
  const [runFile, when] = process.argv.slice(2);
  if (runFile === undefined || when === undefined) {
    console.error('usage: node dist/benchmarks/perf-tables.js <bench.jsonl> "<date, time range>"');
    process.exit(2);
  }
  const figures = readRun(readFileSync(runFile, 'utf8'));
  const targets: Array<[string, string, string[], Row[]]> = [
    ['docs/performance.md', 'performance', ['figure', 'measured', 'baseline, same run', 'ratio', 'target'], PERFORMANCE_ROWS],
    ['README.md', 'readme', ['figure', 'isoswap', 'baseline (same run)', 'ratio'], README_ROWS],
  ];
  for (const [file, name, header, rows] of targets) {
    const path = join(root, file);
    let text = readFileSync(path, 'utf8');
    text = replaceBlock(text, name, table(header, rows, figures));
    text = replaceBlock(text, `${name}-run`, `All rows are from one run of \`npm run bench\` (${when}).`);
    writeFileSync(path, text);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
