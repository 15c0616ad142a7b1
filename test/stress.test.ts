// The stress run of `npm run stress`, smaller: 30 distinct builds (100 under `npm run stress`) swapped in under 4 busy
// callers. Every promise of the host is checked inside runStress; see test/helpers/stress-run.ts.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { runStress } from './helpers/stress-run.js';
import { removeTempDirs } from './helpers/native.js';
import { stormSwaps } from './helpers/storm.js';

after(removeTempDirs);

const SWAPS = stormSwaps(30, 100);

test(`${SWAPS} swaps under 4 busy callers: no call lost, duplicated or stale; <=2 copies mapped; nothing left after close`, async () => {
  const { figures, problems } = await runStress({ swaps: SWAPS, callers: 4 });
  assert.deepEqual(problems, []);
  assert.equal(figures['swaps'], SWAPS);
  assert.ok(Number(figures['calls']) > SWAPS, `the callers made ${figures['calls']} calls: they were not busy during the swaps`);
  assert.equal(figures['lost'], 0);
  assert.equal(figures['duplicated'], 0);
  assert.equal(figures['stale'], 0);
  assert.ok(Number(figures['maxCopiesMapped']) >= 1, 'the sampler sees the serving version\'s copy (it looks where the host puts copies)');
  assert.ok(Number(figures['maxCopiesMapped']) <= 2);
  assert.equal(figures['mappedAfterClose'], 0);
  assert.equal(figures['onDiskAfterClose'], 0);
  assert.equal(figures['workersAfterClose'], 0);
});
