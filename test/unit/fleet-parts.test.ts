// The pure parts of a fleet: the hash check of fetched bytes, a canary's soak, the options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IsoswapError } from '../../src/errors.js';
import { sha256Of, verifiedBuild } from '../../src/fleet/fleet-build.js';
import { resolveFleetOptions, swapOptions } from '../../src/fleet/fleet-options.js';
import { Soak } from '../../src/fleet/soak.js';

const isCode = (code: string) => (err: unknown): boolean => err instanceof IsoswapError && err.code === code;

test('bytes that do not hash to the fleet\'s sha256 are refused', () => {
  const bytes = Buffer.from('a build');
  assert.deepEqual(verifiedBuild(bytes, sha256Of(bytes), 'here'), { bytes, sha256: sha256Of(bytes) });
  assert.throws(() => verifiedBuild(Buffer.from('another build'), sha256Of(bytes), 'Redis'), isCode('ERR_FLEET_HASH_MISMATCH'));
});

test('a soak ends early once the canary fails more than the rest by the margin, else at its time', async () => {
  const failing = new Soak(new Set(['a']), new Set(['b', 'c']), 0.5);
  const verdict = failing.run(60_000);
  failing.count('b'); // the rest: 0.5 per member; the canary 0
  failing.count('a'); // 1 vs 0.5: not past the margin
  failing.count('a'); // 2 vs 0.5: past it
  assert.equal(await verdict, true);
  assert.deepEqual(failing.rates, { canary: 2, rest: 0.5 });

  const quiet = new Soak(new Set(['a']), new Set(['b']), 0);
  quiet.count('b');
  assert.equal(await quiet.run(1), false);
});

test('fleet options are checked', () => {
  const base = { transport: 'cluster' as const, library: 'lib.so', members: 2 };
  assert.equal(resolveFleetOptions(base).prepareTimeoutMs, 30_000);
  assert.throws(() => resolveFleetOptions({ ...base, members: undefined as never }), isCode('ERR_INVALID_OPTIONS'));
  assert.throws(() => resolveFleetOptions({ ...base, transport: { redis: 'redis://x' } as never }), isCode('ERR_INVALID_OPTIONS'));
  assert.throws(() => swapOptions({ waves: [0] }, {}), isCode('ERR_INVALID_OPTIONS'));
  assert.throws(() => swapOptions({ smoke: { call: 3 } as never }, {}), isCode('ERR_INVALID_OPTIONS'));
  assert.deepEqual(swapOptions({ soakMs: 5 }, { waves: [1] }), { waves: [1], soakMs: 5, margin: 0, smoke: undefined });
});
