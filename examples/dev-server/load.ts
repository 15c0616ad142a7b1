// The dev server under load, without and with swaps, in thread and process isolation;
// with --addon, the addon dev server (examples/addon-dev-server, a Node-API handler):
//
//   npm run build && node dist/examples/dev-server/load.js [--isolation thread|process|both]
//        [--rebuilds 50] [--gap-ms 100] [--baseline-seconds 8] [--connections 10] [--keep-mtime] [--addon]
//
// Prints one JSON line per isolation mode; exits 1 if any request failed.
import { parseArgs } from 'node:util';
import type { Isolation } from 'isoswap';
import { runDevServerLoad } from './load-run.js';
import { ADDON_HANDLER } from '../addon-dev-server/handler-build.js';

const { values } = parseArgs({
  options: {
    isolation: { type: 'string', default: 'both' },
    rebuilds: { type: 'string', default: '50' },
    'gap-ms': { type: 'string', default: '100' },
    'baseline-seconds': { type: 'string', default: '8' },
    connections: { type: 'string', default: '10' },
    'keep-mtime': { type: 'boolean', default: false },
    addon: { type: 'boolean', default: false },
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
    ...(values.addon ? { handler: ADDON_HANDLER } : {}),
  });
  const lost = r.baseline.failed + r.swapping.failed + r.serverFailed;
  failed += lost + (r.swaps === r.rebuilds ? 0 : 1) + (r.serverExitCode === 0 ? 0 : 1);
  console.log(JSON.stringify({
    example: values.addon ? 'addon-dev-server' : 'dev-server',
    ...r,
    failedRequests: lost,
    requestsPerSecondRatio: Math.round((r.swapping.requestsPerSecond / r.baseline.requestsPerSecond) * 100) / 100,
    p99Ratio: Math.round((r.swapping.p99Ms / r.baseline.p99Ms) * 100) / 100,
  }));
}
process.exitCode = failed === 0 ? 0 : 1;
