// A worker that predicts the next burst of calls (wake-predictor.ts) and is awake for it:
// calls are still run exactly once and messages still arrive while it watches, and it
// blocks for whole slices again once no burst is predicted. An idle worker stays in one
// block until the host posts: it costs no wake-ups.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CallChannel } from '../src/transport/call-channel.js';
import { channelViews, createChannelBuffer, WORKER_BLOCKED, WORKER_STATE, WORKER_WATCHING } from '../src/transport/ring-layout.js';
import type { LoadReport } from '../src/wire/protocol.js';
import { FULL_SLICE_MS, REC, REC_WORDS } from './helpers/prewake-record.js';

const REPORT = { functions: ['count'], fast: { count: { args: [], result: 'number' } } } as unknown as LoadReport;

/** A worker serving "count" on a fresh ring, the host end, and what the worker records. */
async function start(stub: boolean): Promise<{ worker: Worker; channel: CallChannel; rec: Int32Array; header: Int32Array }> {
  const ring = createChannelBuffer();
  const record = new SharedArrayBuffer(REC_WORDS * 4);
  const worker = new Worker(new URL('./helpers/prewake-worker.js', import.meta.url), { workerData: { ring, record, stub } });
  const [ready] = await once(worker, 'message') as [string];
  assert.equal(ready, 'ready');
  const channel = new CallChannel(() => 'prewake worker', ring);
  channel.open(REPORT, undefined);
  return { worker, channel, rec: new Int32Array(record), header: channelViews(ring).header };
}

/** Waits until `done`, failing after 20 s (the worker is terminated either way). */
async function until(done: () => boolean): Promise<void> {
  for (const end = Date.now() + 20_000; !done(); await sleep(2)) assert.ok(Date.now() < end, 'waited 20 s');
}

/** Posts a message to the worker (nudging it, as the runtime does) and waits for its echo. */
async function echo(worker: Worker, channel: CallChannel, message: string): Promise<void> {
  const answer = once(worker, 'message');
  worker.postMessage(message);
  channel.nudge();
  assert.deepEqual(await answer, [message]);
}

/** Once nothing is predicted, the worker blocks whole slices (a nudge ends each), and no
 *  block is cut short for a window. */
async function blocksWholeSlices(worker: Worker, channel: CallChannel, rec: Int32Array): Promise<void> {
  Atomics.store(rec, REC.fullSlices, 0);
  await until(() => Atomics.load(rec, REC.fullSlices) > 0);
  Atomics.store(rec, REC.shortSlices, 0);
  await echo(worker, channel, 'idle');
  await until(() => Atomics.load(rec, REC.fullSlices) > 1);
  assert.equal(Atomics.load(rec, REC.shortSlices), 0, 'no block was cut short for a window');
}

/** `count` calls, spaced by a few ms (bursts after idle), alternating callSync and call:
 *  each answer is the next count, so none ran twice or was lost. */
async function bursts(channel: CallChannel, first: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const answer = i % 2 === 0 ? channel.callSync('count', []) : await channel.call('count', []);
    assert.equal(answer, first + i, 'every call runs once, in order');
    await sleep(i % 3);
  }
}

test('a worker watching for a predicted burst runs every call once, hears messages, and blocks again when none is predicted', { timeout: 30_000 }, async () => {
  const { worker, channel, rec, header } = await start(true);
  try {
    Atomics.store(rec, REC.stubOn, 1);
    await until(() => Atomics.load(header, WORKER_STATE) === WORKER_WATCHING);
    await bursts(channel, 1, 60);
    await echo(worker, channel, 'while watching');
    await until(() => Atomics.load(rec, REC.misses) > 0 && Atomics.load(rec, REC.shortSlices) > 0);
    assert.ok(Atomics.load(rec, REC.bursts) > 0, 'calls after a quiet millisecond were reported as bursts');
    // No more windows: the worker blocks for whole slices (a nudge ends each).
    Atomics.store(rec, REC.stubOn, 0);
    await echo(worker, channel, 'stop');
    await blocksWholeSlices(worker, channel, rec);
    assert.notEqual(Atomics.load(header, WORKER_STATE), WORKER_WATCHING);
    assert.equal(Atomics.load(rec, REC.calls), 60);
  } finally {
    await worker.terminate();
  }
});

test('a worker that learnt the period of a loop of calls serves each once, and blocks whole slices after the loop stops', { timeout: 30_000 }, async () => {
  const { worker, channel, rec } = await start(false);
  try {
    let answered = 0;
    for (let frame = 0; frame < 40; frame++) {
      await sleep(5); // a loop of frames: a burst of three calls after each idle gap
      for (let i = 0; i < 3; i++) {
        const answer = i === 1 ? await channel.call('count', []) : channel.callSync('count', []);
        assert.equal(answer, ++answered, 'every call runs once, in order');
      }
    }
    await echo(worker, channel, 'loop over');
    // The loop stopped: the predicted frames do not come, and after two misses the worker
    // no longer watches: its blocks are whole slices again (a nudge ends each).
    await blocksWholeSlices(worker, channel, rec);
    assert.equal(Atomics.load(rec, REC.calls), 120);
  } finally {
    await worker.terminate();
  }
});

test('the host\'s warm-up call runs nothing and is no burst, whether the worker watches or blocks, and a call found behind it is', { timeout: 30_000 }, async () => {
  const { worker, channel, rec, header } = await start(true);
  try {
    const warmedUp = async (): Promise<void> => {
      channel.warmUp();
      assert.equal(channel.inflight, 1, 'a warm-up went to an idle worker');
      channel.warmUp();
      assert.equal(channel.inflight, 1, 'one at a time');
      await until(() => channel.inflight === 0);
    };
    Atomics.store(rec, REC.stubOn, 1);
    await until(() => Atomics.load(header, WORKER_STATE) === WORKER_WATCHING);
    const bursts = Atomics.load(rec, REC.bursts);
    await warmedUp();
    assert.equal(Atomics.load(rec, REC.bursts), bursts, 'a warm-up caught while watching is no burst');
    assert.equal(channel.callSync('count', []), 1, 'the call after it runs once');
    Atomics.store(rec, REC.stubOn, 0);
    await echo(worker, channel, 'stop');
    await until(() => Atomics.load(header, WORKER_STATE) !== WORKER_WATCHING);
    await warmedUp(); // wakes a blocked worker
    assert.equal(await channel.call('count', []), 2);
    assert.equal(Atomics.load(rec, REC.calls), 2, 'warm-ups ran nothing');
    const pending = channel.call('count', []);
    channel.warmUp();
    assert.equal(channel.inflight, 1, 'no warm-up while a call is in flight');
    assert.equal(await pending, 3);
    // A warm-up late enough to meet the frame's first call: the blocked worker finds both
    // at once, and still hears the burst
    await echo(worker, channel, 'settle');
    await until(() => Atomics.load(header, WORKER_STATE) === WORKER_BLOCKED);
    await sleep(5); // a quiet gap: what follows begins a burst
    const before = Atomics.load(rec, REC.bursts);
    Atomics.store(rec, REC.hold, 1);
    channel.warmUp();
    const late = channel.call('count', []);
    Atomics.store(rec, REC.hold, 0);
    Atomics.notify(rec, REC.hold);
    assert.equal(await late, 4);
    await until(() => Atomics.load(rec, REC.bursts) > before);
    assert.equal(Atomics.load(rec, REC.bursts), before + 1, 'one burst');
  } finally {
    await worker.terminate();
  }
});

/** Longer than two of the slices blocked workers had before (500 ms): each would have
 *  ended a block and turned the worker's event loop, a wake-up of an idle host. */
const IDLE_WATCH_MS = 1_200;

test('an idle worker stays in one block, without waking, until the host posts', { timeout: 30_000 }, async () => {
  assert.ok(FULL_SLICE_MS > 2 * IDLE_WATCH_MS, 'a slice outlasts the watch');
  const { worker, channel, rec, header } = await start(false);
  try {
    assert.equal(await channel.call('count', []), 1);
    await echo(worker, channel, 'settle'); // answered in a turn: the block before it ended, and was counted
    await until(() => Atomics.load(header, WORKER_STATE) === WORKER_BLOCKED);
    Atomics.store(rec, REC.woken, 0);
    await sleep(IDLE_WATCH_MS);
    assert.equal(Atomics.load(rec, REC.woken), 0, 'the block did not end while idle');
    assert.equal(Atomics.load(header, WORKER_STATE), WORKER_BLOCKED);
    await echo(worker, channel, 'wake'); // a nudge still ends it at once
    assert.equal(Atomics.load(rec, REC.woken), 1);
    assert.equal(channel.callSync('count', []), 2, 'and a call is still run');
  } finally {
    await worker.terminate();
  }
});
