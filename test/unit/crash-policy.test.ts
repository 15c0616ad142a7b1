import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashPolicy } from '../../src/host/crash-policy.js';

test('a build is restarted until it crashes `limit` times within the window', () => {
  const policy = new CrashPolicy(3, 10_000);
  assert.equal(policy.shouldRestart('a', 0), true);
  assert.equal(policy.shouldRestart('a', 1_000), true);
  assert.equal(policy.shouldRestart('a', 2_000), false, 'third crash within 10 s: give up');
});

test('crashes older than the window are forgotten', () => {
  const policy = new CrashPolicy(3, 10_000);
  assert.equal(policy.shouldRestart('a', 0), true);
  assert.equal(policy.shouldRestart('a', 1_000), true);
  assert.equal(policy.shouldRestart('a', 10_500), true, 'the crash at 0 s is forgotten: 2 recent');
  assert.equal(policy.shouldRestart('a', 10_600), false, '1 s, 10.5 s and 10.6 s: 3 within 10 s');
});

test('each build is judged on its own crashes', () => {
  const policy = new CrashPolicy(2, 10_000);
  assert.equal(policy.shouldRestart('a', 0), true);
  assert.equal(policy.shouldRestart('b', 1), true);
  assert.equal(policy.shouldRestart('a', 2), false);
  assert.equal(policy.shouldRestart('b', 3), false);
  assert.equal(policy.shouldRestart('c', 4), true);
});
