// The dev server (examples/dev-server) under autocannon, without swaps and while new builds
// of its handler are saved one after the other: requests per second in process isolation
// beside thread isolation, measured in the same run (the handler's int32 call takes the
// ring in both).
import { loadavg } from 'node:os';
import { runDevServerLoad, type LoadResult } from '../examples/dev-server/load-run.js';
import { r3 } from './fixtures.js';
import { report } from './report.js';

const REBUILDS = 20;
const results: Record<string, LoadResult> = {};
for (const isolation of ['thread', 'process'] as const) {
  results[isolation] = await runDevServerLoad({ isolation, rebuilds: REBUILDS, gapMs: 100, baselineSeconds: 4, connections: 10 });
}
const thread = results['thread']!;
const proc = results['process']!;
report('dev-server', {
  rebuilds: REBUILDS,
  threadReqPerSec: thread.baseline.requestsPerSecond,
  threadReqPerSecSwapping: thread.swapping.requestsPerSecond,
  processReqPerSec: proc.baseline.requestsPerSecond,
  processReqPerSecSwapping: proc.swapping.requestsPerSecond,
  processVsThread: r3(proc.baseline.requestsPerSecond / thread.baseline.requestsPerSecond),
  processVsThreadSwapping: r3(proc.swapping.requestsPerSecond / thread.swapping.requestsPerSecond),
  failed: thread.swapping.failed + proc.swapping.failed + thread.serverFailed + proc.serverFailed,
  loadAvg1: r3(loadavg()[0]!),
  target: 'processVsThreadSwapping >= 0.8',
});
