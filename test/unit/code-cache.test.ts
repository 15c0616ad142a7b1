import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepCodeCache, takeServingCodeCache, workerBoot } from '../../src/runtime/thread/code-cache.js';

test('the standby\'s code cache starts workers until one that served calls gives its own, once per process', async () => {
  assert.equal(workerBoot().bundle.cache, undefined, 'no cache before a worker made one');
  const rehearsed = Uint8Array.of(1);
  keepCodeCache(rehearsed);
  keepCodeCache(Uint8Array.of(2));
  assert.equal(workerBoot().bundle.cache, rehearsed, 'the first rehearsal\'s cache is kept');

  const served = Uint8Array.of(3);
  let asked = 0;
  // Two versions retiring at once: one asks, the other does not wait for nor repeat it
  await Promise.all([
    takeServingCodeCache(() => { asked++; return Promise.resolve(served); }),
    takeServingCodeCache(() => { asked++; return Promise.resolve(Uint8Array.of(4)); }),
  ]);
  await takeServingCodeCache(() => { asked++; return Promise.resolve(Uint8Array.of(5)); });
  assert.equal(asked, 1);
  assert.equal(workerBoot().bundle.cache, served, 'later workers start from the serving worker\'s cache');
  keepCodeCache(Uint8Array.of(6));
  assert.equal(workerBoot().bundle.cache, served, 'a later rehearsal does not replace it');
});
