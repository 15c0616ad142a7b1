// When a worker blocked on its ring's WAKE word turns its event loop: only for a message
// the host posted (POSTED moved), never for the wake of a call (WAKE alone moved).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelViews, createChannelBuffer, HEAD, POSTED, WAKE, WORKER_BLOCKED, WORKER_RUNNING, WORKER_STATE } from '../../src/transport/ring-layout.js';
import { blockWorker, claimWake, nudgeWorker, type WorkerSignals } from '../../src/transport/ring-signals.js';

/** Worker signals whose wait returns at once, recording each wait (its WAKE value). */
function recording(): { signals: WorkerSignals; waits: number[] } {
  const waits: number[] = [];
  const signals: WorkerSignals = {
    id: 0,
    park: () => false,
    waitWake: (_ring, wake) => { waits.push(wake); },
    notifyHost: () => {},
    ended: () => {},
  };
  return { signals, waits };
}

test('a worker that answered the call it was woken for blocks again without turning its event loop', () => {
  const ring = channelViews(createChannelBuffer());
  const { header } = ring;
  const { signals, waits } = recording();
  // Blocked, then woken by the host for a call: WAKE moves, POSTED does not.
  Atomics.store(header, WORKER_STATE, WORKER_BLOCKED);
  assert.equal(claimWake(ring, () => {}), true, 'the host claims the blocked worker');
  Atomics.store(header, HEAD, 1);
  assert.equal(blockWorker(ring, 0, 0, 10, signals), 'work', 'the call is found');
  assert.equal(waits.length, 0, 'a published call is run, not waited for');
  // Answered (tail 1): nothing new, the same turn of its event loop.
  assert.equal(blockWorker(ring, 1, 0, 10, signals), 'turn', 'the slice ended with nothing to run');
  assert.deepEqual(waits, [Atomics.load(header, WAKE)], 'it blocked on WAKE as it is now, although a wake moved it');
  assert.equal(Atomics.load(header, WORKER_STATE), WORKER_RUNNING);
});

test('a message posted since the last turn makes the worker turn its event loop instead of blocking', () => {
  const ring = channelViews(createChannelBuffer());
  const { header } = ring;
  const { signals, waits } = recording();
  let notified = 0;
  nudgeWorker(ring, () => { notified++; });
  assert.equal(Atomics.load(header, POSTED), 1, 'a nudge counts the message');
  assert.equal(notified, 0, 'a worker that is not blocked is not woken');
  assert.equal(blockWorker(ring, 0, 0, 10, signals), 'turn', 'the message waits on the event loop');
  assert.equal(waits.length, 0, 'no wait while a message waits');
  // After that turn (POSTED read as 1), the worker blocks; a nudge then wakes it.
  assert.equal(blockWorker(ring, 0, 1, 10, signals), 'turn');
  assert.equal(waits.length, 1, 'nothing posted since the turn: it blocked');
  Atomics.store(header, WORKER_STATE, WORKER_BLOCKED);
  nudgeWorker(ring, () => { notified++; });
  assert.equal(notified, 1, 'a blocked worker is woken for a message');
});
