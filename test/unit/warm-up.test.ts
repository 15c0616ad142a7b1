// When the host sends its warm-up call: shortly before each burst of a regular loop of
// calls, once per burst, never for irregular calls, and no more after the channel failed.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { WarmUp } from '../../src/transport/warm-up.js';

const FRAME = 1000 / 60;

/** A WarmUp on a clock the test moves (timers mocked with it), and the times it warmed up. */
function rig(): { warmUp: WarmUp; sent: number[]; at: (ms: number) => void } {
  let now = 0;
  const sent: number[] = [];
  const warmUp = new WarmUp(() => sent.push(now), () => now);
  return {
    warmUp,
    sent,
    // In small steps: a timer's callback reads the clock (and sets the next timer from it)
    at: (ms) => {
      while (now < ms) {
        const step = Math.min(0.01, ms - now);
        now += step;
        mock.timers.tick(step);
      }
    },
  };
}

/** A burst of `calls` calls at `ms`, each published in turn. */
function burst(warmUp: WarmUp, at: (ms: number) => void, ms: number, calls = 3): void {
  for (let i = 0; i < calls; i++) {
    at(ms + i * 0.01);
    warmUp.published();
  }
}

test('a 60 Hz loop of bursts gets one warm-up shortly before each frame, and one more after it stops', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { warmUp, sent, at } = rig();
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
    burst(warmUp, at, frame);
  }
  const before = sent.length;
  at(1000 + (frames + 5) * FRAME); // the loop stopped
  assert.equal(sent.length, before + 1, 'a loop that stops costs one warm-up more, then none');
});

test('calls back to back and irregular bursts get no warm-up', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { warmUp, sent, at } = rig();
  burst(warmUp, at, 1000, 2000); // 2000 calls 10 µs apart: one burst
  for (const gap of [9, 30, 38, 61, 66, 90, 101, 125, 131]) burst(warmUp, at, 1100 + gap);
  at(2000);
  assert.deepEqual(sent, [], 'no period, no warm-up');
});

test('no warm-up after stop()', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const { warmUp, sent, at } = rig();
  for (let i = 0; i < 6; i++) burst(warmUp, at, 1000 + i * FRAME);
  assert.ok(sent.length > 0, 'bursts published: warm-ups');
  const before = sent.length;
  warmUp.stop();
  at(1000 + 10 * FRAME);
  assert.equal(sent.length, before, 'stopped: the timer set went with it');
});

test('once the loop is learnt, a frame\'s calls set no timer: the warm-up sets the next one itself', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const setTimer = t.mock.method(globalThis, 'setTimeout');
  const { warmUp, sent, at } = rig();
  let setByCalls = 0;
  for (let i = 0; i < 20; i++) {
    const frame = 1000 + i * FRAME;
    at(frame);
    const before = setTimer.mock.callCount();
    warmUp.published();
    if (i >= 6) setByCalls += setTimer.mock.callCount() - before;
  }
  assert.ok(sent.length >= 13, `a warm-up before each learnt frame (${sent.length})`);
  assert.equal(setByCalls, 0, 'calls only note the time');
});
