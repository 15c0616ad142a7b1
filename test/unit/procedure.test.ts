import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IsoswapError } from '../../src/errors.js';
import { awaited, awaitOnly, blocking, onEventLoop, step, type Steps } from '../../src/procedure.js';

/** A leaf that records which form ran, and fails on demand. */
const read = step(
  (log: string[], value: number): number => { log.push(`blocks ${value}`); if (value < 0) throw new Error('negative'); return value * 2; },
  (log: string[], value: number): Promise<number> => {
    log.push(`awaits ${value}`);
    return value < 0 ? Promise.reject(new Error('negative')) : Promise.resolve(value * 2);
  },
);

/** One procedure: two steps, a failure caught inside it, the driver asked once. */
function* procedure(log: string[], values: number[]): Steps<string> {
  let sum = 0;
  for (const value of values) {
    try {
      sum += yield* read(log, value);
    } catch (err) {
      log.push(`caught ${(err as Error).message}`);
    }
  }
  return `${sum} ${(yield* onEventLoop()) ? 'event loop' : 'blocked'}`;
}

test('the same steps run awaited on the event loop and blocking, each leaf in its own form', async () => {
  const onLoop: string[] = [];
  const blocked: string[] = [];
  assert.equal(await awaited(procedure(onLoop, [1, -1, 3])), '8 event loop');
  assert.equal(blocking(procedure(blocked, [1, -1, 3])), '8 blocked');
  assert.deepEqual(onLoop, ['awaits 1', 'awaits -1', 'caught negative', 'awaits 3']);
  assert.deepEqual(blocked, ['blocks 1', 'blocks -1', 'caught negative', 'blocks 3']);
});

test('a failure a procedure does not catch reaches the driver', async () => {
  function* failing(): Steps<number> {
    return yield* read([], -1);
  }
  await assert.rejects(awaited(failing()), /negative/);
  assert.throws(() => blocking(failing()), /negative/);
});

test('a step only the event loop takes is ERR_SWAP_IN_PROGRESS when blocked', async () => {
  const fetch = awaitOnly('reading a header', (name: string) => Promise.resolve(`${name} read`));
  assert.equal(await awaited(fetch('game.h')), 'game.h read');
  assert.throws(() => blocking(fetch('game.h')), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_SWAP_IN_PROGRESS' && /reading a header/.test(err.message));
});
