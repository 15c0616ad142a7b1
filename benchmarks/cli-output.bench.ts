// `isoswap run --json` carrying a library's printf output: LINES lines printed in one
// call, timed from the call's start (the `load` event; start-up is not counted) to the
// last `output` event read from the command's stdout pipe. Baseline, same run: the same
// C function in a plain executable whose stdout is a pipe this process reads.
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildC, makeTempDir, removeTempDirs } from '../test/helpers/native.js';
import { percentile, report } from './report.js';

const LINES = 200_000;
const RUNS = 3;
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SPAM = `#include <stdint.h>
#include <stdio.h>
int32_t spam(int32_t n) { for (int32_t i = 0; i < n; i++) printf("line %d\\n", i); return n; }
`;

/** ms from `startAt(line)` holding to the LINES-th line that `isLine` accepts. */
function timeLines(file: string, args: string[], startAt: (line: string) => boolean, isLine: (line: string) => boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let started = file === process.execPath ? NaN : performance.now();
    let partial = '';
    let seen = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (Number.isNaN(started) && startAt(line)) started = performance.now();
        else if (isLine(line) && ++seen === LINES) {
          resolve(performance.now() - started);
          child.kill('SIGINT');
        }
      }
    });
    child.on('close', () => { if (seen < LINES) reject(new Error(`${file}: ${seen} of ${LINES} lines`)); });
  });
}

const dir = await makeTempDir('isoswap-bench-');
const library = await buildC(SPAM, join(dir, 'libspam.so'));
const exe = join(dir, 'spam');
await writeFile(`${exe}.c`, `${SPAM}int main(void) { return spam(${LINES}) == ${LINES} ? 0 : 1; }\n`);
await promisify(execFile)('gcc', ['-O2', '-o', exe, `${exe}.c`]);
const figures: Record<string, number> = {};
try {
  const median = async (run: () => Promise<number>): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await run());
    return Math.round(percentile(samples, 50));
  };
  figures['baselineMs'] = await median(() => timeLines(exe, [], () => false, (l) => l.startsWith('line ')));
  for (const isolation of ['thread', 'process']) {
    const args = [MAIN, 'run', library, '--fn', `int32_t spam(int32_t)=${LINES}`, '--json', '--isolation', isolation];
    figures[`${isolation}Ms`] = await median(() => timeLines(process.execPath, args, (l) => l.startsWith('{"event":"load"'), (l) => l.startsWith('{"event":"output"')));
  }
} finally {
  await removeTempDirs();
}
report('cli-output', {
  lines: LINES,
  ...figures,
  threadVsBaseline: Math.round((figures['threadMs']! / figures['baselineMs']) * 10) / 10,
  processVsBaseline: Math.round((figures['processMs']! / figures['baselineMs']) * 10) / 10,
});
