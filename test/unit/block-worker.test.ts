// When a worker blocked on its ring's WAKE word turns its event loop: only for a message
// the host posted (POSTED moved), never for the wake of a call (WAKE alone moved).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelViews, createChannelBuffer, HEAD, POSTED, WAKE, WORKER_BLOCKED, WORKER_RUNNING, WORKER_STATE } from '../../src/transport/ring-layout.js';
import { blockWorker, claimWake, nudgeWorker, prewakeWorker, threadHostSignals, type HostSignals, type WorkerSignals } from '../../src/transport/ring-signals.js';

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

/**
 * The host acting at each of the worker's atomic steps between announcing its block
 * (WORKER_BLOCKED) and its wait, or during the wait: a rendezvous forced by running the
 * host's step inside the worker's `n`th Atomics operation after the announcement. The
 * wait then sleeps only where WAKE still holds the value it waits on (a futex, or
 * Atomics.wait), and must end before the host is done: a sleep that outlives every host
 * step lasts its whole slice (10 s in channel-server.ts), with a call in the ring.
 */
function waitEndsWhereverTheHostActs(hostSteps: (ring: ReturnType<typeof channelViews>, host: HostSignals) => { seen: number; now(): void; later(): void }): void {
  for (let n = 0; ; n++) {
    const ring = channelViews(createChannelBuffer());
    const { header } = ring;
    const host = threadHostSignals(() => 'test');
    const steps = hostSteps(ring, host);
    let announced = false;
    let ops = 0;
    let hostActed = false;
    let sleptThrough = false;
    let actedInWait = false;
    const act = (): void => {
      if (hostActed) return;
      hostActed = true;
      steps.now();
    };
    const signals: WorkerSignals = {
      id: 0,
      park: () => false,
      waitWake: (_ring, wake) => {
        actedInWait = !hostActed;
        act(); // the host had not acted yet: it does while the worker sleeps
        if (Atomics.load(header, WAKE) !== wake) return; // the wait ends at once
        steps.later();
        sleptThrough = Atomics.load(header, WAKE) === wake;
      },
      notifyHost: () => {},
      ended: () => {},
    };
    withAtomicsHook((op, array, index, value) => {
      if (array !== header || hostActed) return;
      if (!announced) {
        announced = (op === 'store' || op === 'exchange') && index === WORKER_STATE && value === WORKER_BLOCKED;
        if (!announced) return;
      } else if (++ops < n) {
        return;
      }
      if (ops >= n) act();
    }, () => blockWorker(ring, steps.seen, 0, 10_000, signals));
    assert.ok(announced, 'the worker announced its block');
    assert.equal(sleptThrough, false, `the host acting ${n} atomic steps after the worker announced its block: the wait must end`);
    // The last case: the worker reached its wait (or returned) before the host's turn came
    if (actedInWait || !hostActed) return;
  }
}

type AtomicsOp = 'load' | 'store' | 'exchange' | 'compareExchange' | 'add';

/** Runs `body` with `after(op, array, index, value)` called after each Atomics operation
 *  of those kinds (the host's own operations included: `after` tells them apart). */
function withAtomicsHook<T>(after: (op: AtomicsOp, array: unknown, index: number, value: unknown) => void, body: () => T): T {
  const atomics = Atomics as unknown as Record<AtomicsOp, (...args: unknown[]) => unknown>;
  const ops: AtomicsOp[] = ['load', 'store', 'exchange', 'compareExchange', 'add'];
  const saved = Object.fromEntries(ops.map((op) => [op, atomics[op]])) as typeof atomics;
  let inside = false;
  for (const op of ops) {
    atomics[op] = (...args: unknown[]) => {
      const result = saved[op](...args);
      if (!inside) {
        inside = true;
        try { after(op, args[0], args[1] as number, args[2]); } finally { inside = false; }
      }
      return result;
    };
  }
  try {
    return body();
  } finally {
    for (const op of ops) atomics[op] = saved[op];
  }
}

test('a worker woken for a call about to come (CALL_COMING) right as it blocks is not left asleep', () => {
  // The host's call(): prewakeWorker before it writes the slot, then HEAD, then the flush's wakeWorker.
  waitEndsWhereverTheHostActs((ring, host) => ({
    seen: 0,
    now: () => { prewakeWorker(ring, host); },
    later: () => { Atomics.store(ring.header, HEAD, 1); host.wakeWorker(ring); },
  }));
});

test('a worker blocking as the host publishes a call is woken', () => {
  waitEndsWhereverTheHostActs((ring, host) => ({
    seen: 0,
    now: () => { Atomics.store(ring.header, HEAD, 1); host.wakeWorker(ring); },
    later: () => {},
  }));
});

test('a worker blocking as the host posts a message is woken', () => {
  waitEndsWhereverTheHostActs((ring, host) => ({
    seen: 0,
    now: () => { host.nudge(ring); },
    later: () => {},
  }));
});

test('a worker that already ran a call is not left asleep by the host\'s late wake-up for it', () => {
  // The call is in the ring and was run (the worker spun for it): the flush's wakeWorker
  // comes after, as the worker blocks; then the next call (prewake, HEAD, wakeWorker).
  waitEndsWhereverTheHostActs((ring, host) => {
    Atomics.store(ring.header, HEAD, 1);
    return {
      seen: 1,
      now: () => { host.wakeWorker(ring); },
      later: () => { prewakeWorker(ring, host); Atomics.store(ring.header, HEAD, 2); host.wakeWorker(ring); },
    };
  });
});
