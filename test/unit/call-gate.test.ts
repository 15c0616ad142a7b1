import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallGate } from '../../src/host/call-gate.js';

test('an open gate has nothing to wait on', () => {
  assert.equal(new CallGate().waiting, null);
});

test('a held gate opens when its hold is released, once', async () => {
  const gate = new CallGate();
  const release = gate.hold();
  const waiting = gate.waiting;
  assert.ok(waiting instanceof Promise);
  let passed = false;
  void waiting.then(() => { passed = true; });
  await Promise.resolve();
  assert.equal(passed, false, 'held calls wait');
  release();
  await waiting;
  assert.equal(passed, true);
  assert.equal(gate.waiting, null);
  release(); // a second release of the same hold does nothing
  assert.equal(gate.waiting, null);
});

test('holds nest: the gate opens when the last one is released', async () => {
  const gate = new CallGate();
  const first = gate.hold();
  const second = gate.hold();
  const waiting = gate.waiting;
  first();
  first();
  assert.equal(gate.waiting, waiting, 'still held by the second hold');
  second();
  assert.equal(gate.waiting, null);
  await waiting;
});

test('fail() rejects the calls waiting now (a forced close); the hold stays until released', async () => {
  const gate = new CallGate();
  const release = gate.hold();
  const waiting = gate.waiting!;
  const closed = new Error('closed');
  gate.fail(closed);
  await assert.rejects(waiting, (err) => err === closed);
  assert.equal(gate.waiting, waiting, 'still held');
  release();
  const opened = gate.waiting;
  assert.equal(opened, null);
  gate.fail(closed); // an open gate: nothing to fail
  const next = gate.hold();
  const again = gate.waiting;
  let passed = false;
  void again.then(() => { passed = true; });
  next();
  await again;
  assert.equal(passed, true, 'a later hold opens as usual');
});
