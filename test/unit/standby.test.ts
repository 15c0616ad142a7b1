import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Standby } from '../../src/runtime/standby.js';
import type { RuntimeHandle } from '../../src/runtime/runtime-handle.js';

/** A runtime handle that only records what the standby does with it. */
class FakeHandle {
  readonly kind = 'fake';
  label = 'fake';
  alive = true;
  refs = 0;
  readonly ready = Promise.resolve();
  constructor(readonly n: number) {}
  ref(): void { this.refs++; }
  unref(): void { this.refs--; }
  kill(): Promise<void> { this.alive = false; return Promise.resolve(); }
}

/** A standby of one whose warm-ups settle when the test says so. */
function standby(): { pool: Standby<RuntimeHandle>; spawned: FakeHandle[]; settle: () => Promise<void> } {
  const spawned: FakeHandle[] = [];
  const warmUps: Array<() => void> = [];
  const pool = new Standby(1, () => {
    const h = new FakeHandle(spawned.length);
    spawned.push(h);
    return h as unknown as RuntimeHandle;
  }, () => new Promise<void>((resolve) => warmUps.push(resolve)));
  const settle = async (): Promise<void> => {
    for (const resolve of warmUps.splice(0)) resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { pool, spawned, settle };
}

test('takeSettled leaves a standby still warming (its warm-up request is owed) and starts a new handle', async () => {
  const { pool, spawned } = standby();
  assert.equal(spawned.length, 1, 'the standby starts one');
  const taken = pool.takeSettled() as unknown as FakeHandle;
  assert.equal(taken.n, 1, 'a new handle, not the warming one');
  assert.equal(taken.refs, 1, 'a taken handle keeps the program alive');
  assert.equal(pool.take(), spawned[0] as unknown as RuntimeHandle, 'the warming one still waits for take()');
  await pool.close();
});

test('takeSettled takes a standby whose warm-up settled; a dead one is passed over', async () => {
  const { pool, spawned, settle } = standby();
  await settle();
  assert.equal(pool.takeSettled(), spawned[0] as unknown as RuntimeHandle);
  assert.equal(spawned.length, 1, 'no new handle was started');
  pool.refill();
  await settle();
  spawned[1]!.alive = false;
  assert.equal((pool.takeSettled() as unknown as FakeHandle).n, 2, 'the dead standby is not taken');
  await pool.close();
});
