// `npm run stress [-- --swaps 1000 --callers 4 --isolation thread --threads 1 --overlap]`
// (or STRESS_SWAPS=…): rapid swaps under busy callers; one JSON line; exit 1 on any problem.
import { parseArgs } from 'node:util';
import type { Isolation } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { report } from './report.js';
import { runStress } from '../test/helpers/stress-run.js';

const { values } = parseArgs({
  options: {
    swaps: { type: 'string', default: process.env['STRESS_SWAPS'] ?? '1000' },
    callers: { type: 'string', default: '4' },
    isolation: { type: 'string', default: 'thread' },
    threads: { type: 'string', default: '1' },
    overlap: { type: 'boolean', default: false },
  },
});

try {
  const { figures, problems } = await runStress({
    swaps: Number(values.swaps),
    callers: Number(values.callers),
    isolation: values.isolation as Isolation,
    threads: Number(values.threads),
    overlap: values.overlap,
  });
  report('stress', { ...figures, problems });
  for (const problem of problems) console.error(`stress: ${problem}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  await removeTempDirs();
}
