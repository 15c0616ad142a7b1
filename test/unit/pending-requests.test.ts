import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingRequests } from '../../src/runtime/pending-requests.js';

/** A promise chain as long as the one a comlink answer takes to reach a request. */
const later = <T>(value: T): Promise<T> => Promise.resolve(value).then((v) => v).then((v) => v);

test('a request answered in the turn its worker died resolves; the others reject with the death', async () => {
  const pending = new PendingRequests();
  let answer!: (value: number) => void;
  const answered = pending.track(new Promise<number>((resolve) => { answer = resolve; }).then(later));
  const unanswered = pending.track(new Promise<number>(() => {}));
  assert.equal(pending.size, 2);
  // What a worker's 'exit' does: its last message was just handed over, then the death
  answer(4);
  const death = new Error('exited');
  pending.failAll(death);
  assert.equal(pending.size, 0, 'nothing is in flight once it died');
  assert.equal(await answered, 4);
  await assert.rejects(unanswered, (err) => err === death);
  const afterwards = pending.track(new Promise<number>(() => {}));
  pending.failAll(new Error('second'));
  await assert.rejects(afterwards, { message: 'second' });
});

test('a request that failed on its own keeps its own error', async () => {
  const pending = new PendingRequests();
  const own = new Error('bad arguments');
  const failed = pending.track(Promise.reject(own));
  await assert.rejects(failed, (err) => err === own);
  assert.equal(pending.size, 0);
});
