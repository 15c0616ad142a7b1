// Every argument and result type the ring carries gives the same value on the ring (await
// and callSync) as on the message path (await and blocking), for one worker thread; `_Out_`
// and `_Inout_` buffers come back; string results longer than their reserve arrive on the
// side channel; a ring of a retired worker is reused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NOT_FAST } from '../src/transport/call-channel.js';
import { RingPool } from '../src/transport/ring-pool.js';
import type { LoadReport } from '../src/wire/protocol.js';
import { ThreadWorkerHandle } from '../src/runtime/thread/thread-worker-handle.js';
import { createIsolatedHost } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';
import { RING_TYPES, RING_TYPES_SOURCE, ringTypeCases } from './helpers/ring-types-fixture.js';

let library = '';
let worker: ThreadWorkerHandle;
let report: LoadReport;
const state = new SharedArrayBuffer(64);

before(async () => {
  library = await buildC(RING_TYPES_SOURCE);
  worker = new ThreadWorkerHandle();
  report = await worker.request((r) => r.load({
    library, copy: library, functions: RING_TYPES, state: { kind: 'shared', buffer: state }, channel: worker.channel.buffer,
  }));
  worker.channel.open(report, state);
});
after(async () => {
  await worker?.kill();
  await removeTempDirs();
});

test('every function of the fixture is served on the ring', () => {
  assert.deepEqual(Object.keys(report.fast ?? {}).sort(), Object.keys(RING_TYPES).sort());
  assert.deepEqual(report.fast?.['fill_u8']?.args, ['pointer-out', 'number', 'number']);
  assert.deepEqual(report.fast?.['describe'], { args: ['string', 'int64', 'bool', 'number'], result: 'string' });
});

test('ring, blocking ring, message and blocking message paths give the same value for every type', async () => {
  for (const [name, args] of ringTypeCases(state)) {
    const label = `${name}(${args.map((a) => (typeof a === 'string' ? JSON.stringify(a.slice(0, 20)) : String(a))).join(', ')})`;
    const byMessage = await worker.request((r) => r.call(name, args));
    const ring = worker.channel.call(name, args);
    assert.ok(ring !== undefined, `${label} takes the ring`);
    const sync = worker.channel.callSync(name, args);
    assert.notEqual(sync, NOT_FAST, `${label} takes the blocking ring`);
    assert.deepEqual(await ring, byMessage, label);
    assert.deepEqual(sync, byMessage, label);
    assert.deepEqual(worker.syncCall.call(name, args), byMessage, label);
  }
});

test('many calls with strings in flight at once: each gets its own result (the arena wraps and refills)', async () => {
  const words = Array.from({ length: 5000 }, (_, i) => `w${i}-${'é'.repeat(i % 50)}`);
  const results = await Promise.all(words.map((w) => worker.channel.call('shout', [w])!));
  assert.deepEqual(results, words.map((w) => w.replace(/[a-z]/g, (c) => c.toUpperCase())), 'C toupper: ASCII only');
  const long = await Promise.all(Array.from({ length: 50 }, (_, i) => worker.channel.call('repeat', ['xyz', 100 + i])!));
  assert.deepEqual(long, Array.from({ length: 50 }, (_, i) => 'xyz'.repeat(100 + i)));
  assert.equal(worker.channel.inflight, 0);
});

test('_Out_ and _Inout_ buffers come back on the ring; views over shared memory are the memory itself', async () => {
  const out = Buffer.alloc(4);
  await worker.channel.call('fill_u8', [out, 4, 10]);
  assert.deepEqual([...out], [10, 11, 12, 13]);
  const floats = new Float32Array([1, 2, 3]);
  assert.equal(worker.channel.callSync('scale', [floats, 3, 2]), undefined);
  assert.deepEqual([...floats], [2, 4, 6]);
  const shared = new Uint8Array(new SharedArrayBuffer(8), 2, 4);
  await worker.channel.call('fill_u8', [shared, 4, 1]);
  assert.deepEqual([...new Uint8Array(shared.buffer)], [0, 0, 1, 2, 3, 4, 0, 0]);
  // a plain (input) pointer is copied one way: what the C side writes is not seen, as on the message path
  const input = new Uint8Array([1, 2]);
  assert.equal(await worker.channel.call('sum_u8', [input, 2]), 3);
});

test('host.call takes the ring for strings: same value as the message path and as callSync', async (t) => {
  const host = await createIsolatedHost({ library, functions: RING_TYPES, state: { bytes: 64 } });
  t.after(() => host.close());
  new Int32Array(host.state!.buffer, 0, 2).set([20, 22]);
  assert.equal(await host.call('shout', 'ring'), 'RING');
  assert.equal(host.callSync('shout', 'sync'), 'SYNC');
  assert.equal(await host.call('describe', 'x', 2n ** 62n, true, 0.25), `x:${2n ** 62n}:1:0.25`);
  assert.equal(await host.call('sum_i32', new Int32Array(host.state!.buffer, 0, 2), 2), 42);
  assert.equal(host.callSync('u64max'), 2n ** 64n - 1n);
});

test('a ring whose worker ended goes back to the pool and serves the next worker', async () => {
  const rings = new RingPool();
  const first = new ThreadWorkerHandle(rings);
  const ring = first.channel.buffer;
  const loaded = await first.request((r) => r.load({ library, copy: library, functions: RING_TYPES, channel: first.channel.buffer }));
  first.channel.open(loaded, undefined);
  assert.equal(await first.channel.call('shout', ['a']), 'A');
  await first.stop();
  assert.deepEqual(rings.stats, { made: 1, free: 1 });
  const second = new ThreadWorkerHandle(rings);
  try {
    assert.equal(second.channel.buffer, ring, 'the same memory');
    const again = await second.request((r) => r.load({ library, copy: library, functions: RING_TYPES, channel: second.channel.buffer }));
    second.channel.open(again, undefined);
    assert.equal(await second.channel.call('shout', ['b']), 'B', 'a reused ring starts clean');
    assert.equal(second.channel.callSync('ulen', ['abc']), 3);
  } finally {
    await second.stop();
  }
  assert.deepEqual(rings.stats, { made: 1, free: 1 });
});
