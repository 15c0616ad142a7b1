// examples/addon-dev-server: an HTTP server whose handler is a Node-API addon, rebuilt
// under load (autocannon) with no failed request, and stopped with SIGINT: exit 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDevServerLoad } from '../examples/dev-server/load-run.js';
import { ADDON_HANDLER } from '../examples/addon-dev-server/handler-build.js';

test('the addon dev server serves through 3 rebuilds under load with 0 failed requests and exits 0', async () => {
  const r = await runDevServerLoad({ isolation: 'thread', rebuilds: 3, gapMs: 50, baselineSeconds: 1, connections: 4, handler: ADDON_HANDLER });
  assert.equal(r.swaps, 3, 'every rebuild was served');
  assert.ok(r.baseline.requests > 0 && r.swapping.requests > 0, 'requests were made in both phases');
  assert.deepEqual([r.baseline.failed, r.swapping.failed, r.serverFailed], [0, 0, 0]);
  assert.equal(r.serverExitCode, 0);
});
