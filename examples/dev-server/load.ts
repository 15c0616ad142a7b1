// The dev server under load, without and with swaps, in thread and process isolation:
//
//   npm run build && node dist/examples/dev-server/load.js [--isolation thread|process|both]
//        [--rebuilds 50] [--gap-ms 100] [--baseline-seconds 8] [--connections 10] [--keep-mtime]
//
// Prints one JSON line per isolation mode; exits 1 if any request failed.
import { parseArgs } from 'node:util';
import type { Isolation } from '../../src/index.js';
import { runDevServerLoad } from './load-run.js';

const { values } = parseArgs({
  options: {
    isolation: { type: 'string', default: 'both' },
    rebuilds: { type: 'string', default: '50' },
    'gap-ms': { type: 'string', default: '100' },
    'baseline-seconds': { type: 'string', default: '8' },
    connections: { type: 'string', default: '10' },
    'keep-mtime': { type: 'boolean', default: false },
  },
});

const modes: Isolation[] = values.isolation === 'both' ? ['thread', 'process'] : [values.isolation as Isolation];
let failed = 0;
for (const isolation of modes) {
  const r = await runDevServerLoad({
    isolation,
    rebuilds: Number(values.rebuilds),
    gapMs: Number(values['gap-ms']),
    baselineSeconds: Number(values['baseline-seconds']),
    connections: Number(values.connections),
    keepMtime: values['keep-mtime'],
  });
  const lost = r.baseline.failed + r.swapping.failed + r.serverFailed;
  failed += lost + (r.swaps === r.rebuilds ? 0 : 1) + (r.serverExitCode === 0 ? 0 : 1);
  console.log(JSON.stringify({
    example: 'dev-server',
    ...r,
    failedRequests: lost,
    requestsPerSecondRatio: Math.round((r.swapping.requestsPerSecond / r.baseline.requestsPerSecond) * 100) / 100,
    p99Ratio: Math.round((r.swapping.p99Ms / r.baseline.p99Ms) * 100) / 100,
  }));
}
process.exitCode = failed === 0 ? 0 : 1;
