// When the host sends its warm-up call: shortly before each burst of a regular loop of
// calls the worker announced, once per burst, never for irregular calls or without an
// announcement, and no more after the channel failed.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { announceNextBurst, WarmUp } from '../../src/transport/warm-up.js';
import { WakePredictor } from '../../src/transport/wake-predictor.js';
import { BURST_PERIOD, NEXT_BURST_AT } from '../../src/transport/ring-layout.js';

const FRAME = 1000 / 60;

interface Rig {
  warmUp: WarmUp;
  stamps: Float64Array;
  /** When each warm-up went. */
  sent: number[];
  /** Moves the clock (and the mocked timers) to `ms`. */
  at: (ms: number) => void;
  /** A burst of `calls` calls at `ms`: the host publishes each, the worker hears the
   *  burst and announces the next (as channel-server.ts does). */
  burst: (ms: number, calls?: number) => void;
}

/** A WarmUp on a clock the test moves (timers mocked with it), over a ring's stamps that a
 *  worker's predictor writes. */
function rig(): Rig {
  let now = 0;
  const sent: number[] = [];
  const stamps = new Float64Array(24).fill(Number.NaN);
  const warmUp = new WarmUp(() => sent.push(now), stamps, () => now);
  const predictor = new WakePredictor();
  // In small steps: a timer's callback reads the clock (and sets the next timer from it)
  const at = (ms: number): void => {
    while (now < ms) {
      const step = Math.min(0.01, ms - now);
      now += step;
      mock.timers.tick(step);
    }
  };
  const burst = (ms: number, calls = 3): void => {
    for (let i = 0; i < calls; i++) {
      at(ms + i * 0.01);
      warmUp.published();
    }
    predictor.burst(ms);
    announceNextBurst(stamps, predictor);
  };
  return { warmUp, stamps, sent, at, burst };
}

test('a 60 Hz loop of bursts gets one warm-up shortly before each frame, and one more after it stops', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { sent, at, burst } = rig();
  const frames = 12;
  for (let i = 0; i < frames; i++) {
    const frame = 1000 + i * FRAME;
    const before = sent.length;
    at(frame - 1.5);
    const early = sent.length;
    at(frame - 0.05); // the timers due before the frame fire
    if (i >= 5) {
      assert.equal(early, before, `frame ${i}: no warm-up more than 1.5 ms before it`);
      assert.equal(sent.length, before + 1, `frame ${i}: one warm-up went just before it`);
    }
    burst(frame);
  }
  const before = sent.length;
  at(1000 + (frames + 5) * FRAME); // the loop stopped
  assert.equal(sent.length, before + 1, 'a loop that stops costs one warm-up more, then none');
});

test('calls back to back and irregular bursts get no warm-up', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { sent, at, burst } = rig();
  burst(1000, 2000); // 2000 calls 10 µs apart: one burst
  for (const gap of [9, 30, 38, 61, 66, 90, 101, 125, 131]) burst(1100 + gap);
  at(2000);
  assert.deepEqual(sent, [], 'no period, no warm-up');
});

test('no announcement, a ring never used, or one announced long ago: no warm-up, and no time spent', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { warmUp, stamps, sent, at } = rig();
  warmUp.published(); // NaN: the worker expects nothing
  stamps.fill(0); // a ring's header as the pool hands it out
  warmUp.published();
  stamps[NEXT_BURST_AT] = 10;
  stamps[BURST_PERIOD] = FRAME;
  at(3_600_000); // an hour later
  warmUp.published();
  at(3_600_000 + 10 * FRAME);
  assert.deepEqual(sent, []);
});

test('once the loop is learnt, a frame\'s calls set no timer: the warm-up sets the next one itself', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const setTimer = t.mock.method(globalThis, 'setTimeout');
  const { sent, at, burst } = rig();
  let setByCalls = 0;
  for (let i = 0; i < 20; i++) {
    at(1000 + i * FRAME); // the warm-up's timer fires (and sets the next)
    const before = setTimer.mock.callCount();
    burst(1000 + i * FRAME);
    if (i >= 6) setByCalls += setTimer.mock.callCount() - before;
  }
  assert.ok(sent.length >= 13, `a warm-up before each learnt frame (${sent.length})`);
  assert.equal(setByCalls, 0, 'calls only note that they came');
});

test('no warm-up after stop()', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { warmUp, sent, at, burst } = rig();
  for (let i = 0; i < 6; i++) burst(1000 + i * FRAME);
  at(1000 + 6 * FRAME);
  assert.ok(sent.length > 0, 'bursts published: warm-ups');
  const before = sent.length;
  warmUp.stop();
  at(1000 + 10 * FRAME);
  assert.equal(sent.length, before, 'stopped: the timer set went with it');
});

test('timers that fire early (Node\'s are ms-granular) still give one warm-up per frame, and no timer set by a call', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const mocked = globalThis.setTimeout;
  const setTimer = t.mock.method(globalThis, 'setTimeout',
    (fn: () => void, ms: number) => mocked(fn, Math.max(0, ms - 0.8))); // 0.8 ms early, as a 16 ms timer may fire after 15.2
  const { sent, at, burst } = rig();
  let setByCalls = 0;
  let warmedFrames = 0;
  for (let i = 0; i < 20; i++) {
    const frame = 1000 + i * FRAME;
    const before = sent.length;
    at(frame);
    if (i >= 6 && sent.length === before + 1) warmedFrames++;
    const timers = setTimer.mock.callCount();
    burst(frame);
    if (i >= 6) setByCalls += setTimer.mock.callCount() - timers;
  }
  assert.equal(warmedFrames, 14, 'one warm-up before each learnt frame');
  assert.equal(setByCalls, 0, 'calls only note that they came');
});
