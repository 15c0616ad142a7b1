// A spawn that fails at once with a transient error (EAGAIN; UNKNOWN, which Wine's
// CreateProcess gives now and then under load) is tried again; any other error, or the
// same one every time, reaches the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnRetrying } from '../../src/runtime/process/child-process-handle.js';

const failing = (code: string): Error => Object.assign(new Error(`spawn ${code}`), { code, syscall: 'spawn' });

test('a spawn that fails with UNKNOWN or EAGAIN is tried again after a pause, and its child returned', () => {
  for (const code of ['UNKNOWN', 'EAGAIN']) {
    let calls = 0;
    const pauses: number[] = [];
    const child = spawnRetrying(() => {
      if (++calls < 3) throw failing(code);
      return { pid: 42 };
    }, (ms) => pauses.push(ms));
    assert.deepEqual(child, { pid: 42 });
    assert.equal(calls, 3, `${code}: three attempts`);
    assert.equal(pauses.length, 2, `${code}: a pause before each retry`);
  }
});

test('a spawn that keeps failing, or fails for another reason, throws that error', () => {
  let calls = 0;
  assert.throws(() => spawnRetrying(() => { calls++; throw failing('UNKNOWN'); }, () => {}), { code: 'UNKNOWN' });
  assert.equal(calls, 3, 'at most three attempts');
  calls = 0;
  assert.throws(() => spawnRetrying(() => { calls++; throw failing('ENOENT'); }, () => {}), { code: 'ENOENT' });
  assert.equal(calls, 1, 'ENOENT is not transient: no retry');
  calls = 0;
  assert.throws(() => spawnRetrying(() => { calls++; throw new TypeError('bad options'); }, () => {}), TypeError);
  assert.equal(calls, 1, 'an error without a code: no retry');
});

test('the default pause blocks for about its length', () => {
  let calls = 0;
  const started = performance.now();
  spawnRetrying(() => {
    if (++calls < 2) throw failing('EAGAIN');
    return calls;
  });
  assert.ok(performance.now() - started >= 15, 'the retry came after the pause');
});
