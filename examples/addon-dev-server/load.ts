// The addon dev server under load, without and with rebuilds of its addon, in thread and
// process isolation (the runner of examples/dev-server, given this server and handler):
//
//   npm run build && node dist/examples/addon-dev-server/load.js [--isolation thread|process|both]
//        [--rebuilds 50] [--gap-ms 100] [--baseline-seconds 8] [--connections 10]
//
// Prints one JSON line per isolation mode; exits 1 if any request failed.
import { parseArgs } from 'node:util';
import type { Isolation } from '../../src/index.js';
import { runDevServerLoad } from '../dev-server/load-run.js';
import { ADDON_HANDLER } from './handler-build.js';

const { values } = parseArgs({
  options: {
    isolation: { type: 'string', default: 'both' },
    rebuilds: { type: 'string', default: '50' },
    'gap-ms': { type: 'string', default: '100' },
    'baseline-seconds': { type: 'string', default: '8' },
    connections: { type: 'string', default: '10' },
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
    handler: ADDON_HANDLER,
  });
  const lost = r.baseline.failed + r.swapping.failed + r.serverFailed;
  failed += lost + (r.swaps === r.rebuilds ? 0 : 1) + (r.serverExitCode === 0 ? 0 : 1);
  console.log(JSON.stringify({ example: 'addon-dev-server', ...r, failedRequests: lost }));
}
process.exitCode = failed === 0 ? 0 : 1;
