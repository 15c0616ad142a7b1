// When an idle worker expects the next burst of calls: only for a regular period, around
// the burst's time, and no more once the bursts stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WakePredictor } from '../../src/transport/wake-predictor.js';

const FRAME = 1000 / 60;

/** A predictor fed bursts at `times` (ms). */
function fed(times: number[]): WakePredictor {
  const predictor = new WakePredictor();
  for (const at of times) predictor.burst(at);
  return predictor;
}

/** `count` bursts a period apart from 1000 ms, each moved by `jitter(i)`. */
function frames(count: number, period = FRAME, jitter: (i: number) => number = () => 0): number[] {
  return Array.from({ length: count }, (_, i) => 1000 + i * period + jitter(i));
}

test('a 60 Hz loop gives a window around its next frame, within its bounds', () => {
  const times = frames(10, FRAME, (i) => (i % 2 === 0 ? 0 : 0.9)); // timers a millisecond late every other frame
  const predictor = fed(times);
  const window = predictor.window();
  assert.ok(window !== null, 'a regular period is predicted');
  const next = 1000 + 10 * FRAME;
  assert.ok(window.from < next && window.until > next, `the window [${window.from}, ${window.until}] holds the next frame ${next}`);
  assert.ok(window.from > times.at(-1)!, 'it opens after the last burst');
  assert.ok(window.until - window.from <= Math.min(3, predictor.period / 5) + 1e-9, 'at most 3 ms and a fifth of the period');
});

test('no window before a few regular gaps, nor for gaps out of range or irregular', () => {
  assert.equal(new WakePredictor().window(), null, 'nothing seen');
  assert.equal(fed(frames(2)).window(), null, 'one gap is not a period');
  assert.notEqual(fed(frames(4)).window(), null, 'three gaps that fit are');
  assert.equal(fed(frames(10, 1)).window(), null, 'bursts 1 ms apart: the worker spins through those anyway');
  assert.equal(fed(frames(10, 250)).window(), null, 'bursts 250 ms apart: too rare to watch for');
  const irregular = [0, 9, 30, 38, 61, 66, 90, 101, 125, 131].map((t) => 1000 + t);
  assert.equal(fed(irregular).window(), null, 'gaps of 5 to 23 ms: no period');
});

test('the prediction stops after two missed bursts, and comes back with the bursts', () => {
  const predictor = fed(frames(10));
  const first = predictor.window();
  assert.ok(first !== null);
  predictor.miss();
  const second = predictor.window();
  assert.ok(second !== null, 'one miss: the frame after is still expected');
  assert.ok(Math.abs(second.from - first.from - FRAME) < 1e-6, 'a period later');
  predictor.miss();
  assert.equal(predictor.window(), null, 'two misses: the loop stopped, no more watching');
  // The loop resumes three frames later, on the same grid: expected again at once.
  predictor.burst(1000 + 12 * FRAME);
  assert.notEqual(predictor.window(), null, 'a burst on the grid after dropped frames fits');
});

test('one late frame moves neither the period nor the next frame', () => {
  const times = frames(10);
  times[8] = times[8]! + 5; // a frame 5 ms late (a busy machine)
  const window = fed(times).window();
  assert.ok(window !== null, 'the period holds');
  const next = 1000 + 10 * FRAME;
  assert.ok(window.from < next && window.until > next, 'the next frame is still inside');
});

test('a new period is learnt from scratch, and a loop that sleeps a fixed time is followed', () => {
  const predictor = fed([...frames(10), ...frames(10, 10).map((t) => t + 500)]);
  assert.ok(Math.abs(predictor.period - 10) < 0.5, `the period moved to 10 ms (${predictor.period})`);
  // A loop that sleeps 16 ms after each frame's work drifts: each gap is 16.3 ms.
  const drifting = fed(frames(40, 16.3));
  const window = drifting.window();
  assert.ok(window !== null);
  const next = 1000 + 40 * 16.3;
  assert.ok(window.from < next && window.until > next, 'the drift is followed');
});

test('the window is as wide as the loop\'s own jitter: narrow on a grid, wide enough for a loop that sleeps after each frame', () => {
  let seed = 3;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  /** Share of the bursts after the first ten that fell in the window predicted for them, and
   *  the windows' mean width. */
  const replay = (times: number[]): { hit: number; width: number } => {
    const predictor = new WakePredictor();
    let hits = 0;
    let seen = 0;
    let width = 0;
    times.forEach((at, i) => {
      const window = predictor.window();
      if (i >= 10 && window !== null) {
        seen++;
        width += window.until - window.from;
        if (at >= window.from && at <= window.until) hits++;
      }
      predictor.burst(at);
    });
    return { hit: hits / seen, width: width / seen };
  };
  // A loop that sleeps 16 ms after each frame: timers fire up to ~1.2 ms late (now and then
  // 2 ms more), or a little early, so the gaps spread over ~15.7-19 ms
  let at = 1000;
  const sleeping = replay(Array.from({ length: 400 }, () => (at += 15.7 + random() * 1.2 + (random() < 0.1 ? random() * 2 : 0))));
  const paced = replay(frames(400, FRAME, () => random() * 0.6));
  assert.ok(sleeping.hit >= 0.92, `a sleeping loop's frames fall in their windows (${sleeping.hit})`);
  assert.ok(paced.hit >= 0.95, `a paced loop's frames fall in their windows (${paced.hit})`);
  assert.ok(paced.width < sleeping.width, `the paced loop's windows are narrower (${paced.width} against ${sleeping.width} ms)`);
});
