// The shared-memory call channel against the message path, on one worker thread: the same
// results and errors for every numeric type, which functions qualify, a ring overflowing,
// the worker blocked after idling (and still reached by messages), and a dead worker seen
// by a blocked host.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { NOT_FAST } from '../src/transport/call-channel.js';
import { channelViews, SLOTS, WORKER_BLOCKED, WORKER_STATE, WORKER_TID } from '../src/transport/ring-layout.js';
import type { LoadReport } from '../src/wire/protocol.js';
import { SpinBudget } from '../src/transport/spin-budget.js';
import { nowMs } from '../src/transport/clock.js';
import { ThreadWorkerHandle } from '../src/runtime/thread/thread-worker-handle.js';
import { buildC, removeTempDirs } from './helpers/native.js';

const SOURCE = `#include <stdint.h>
#include <stdbool.h>
int32_t add_i32(int32_t a, int32_t b) { return a + b; }
uint8_t to_u8(int32_t x) { return (uint8_t)x; }
int16_t neg_i16(int16_t x) { return -x; }
uint32_t to_u32(int32_t x) { return (uint32_t)x; }
double mix(double a, float b, int8_t c, uint16_t d, int64_t e) { return a * 2 + b + c + d + (double)e; }
float halff(float x) { return x / 2; }
bool is_neg(int64_t x) { return x < 0; }
int32_t pick(bool flag, int32_t a, int32_t b) { return flag ? a : b; }
static int32_t calls;
void touch(void) { calls++; }
int32_t touched(void) { return calls; }
int32_t sum_i32(const int32_t *p, int32_t n) { int32_t s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; return s; }
int32_t is_null(void *p) { return p == 0; }
int32_t eight(int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}
int32_t nine(int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h, int32_t i) { return a + i; }
const char *greet(void) { return "hello"; }
int64_t big(void) { return 9007199254740993LL; }
`;

const FUNCTIONS = {
  add_i32: 'int32_t add_i32(int32_t, int32_t)',
  to_u8: 'uint8_t to_u8(int32_t)',
  neg_i16: 'int16_t neg_i16(int16_t)',
  to_u32: 'uint32_t to_u32(int32_t)',
  mix: 'double mix(double, float, int8_t, uint16_t, int64_t)',
  halff: 'float halff(float)',
  is_neg: 'bool is_neg(int64_t)',
  pick: 'int32_t pick(bool, int32_t, int32_t)',
  touch: 'void touch(void)',
  touched: 'int32_t touched(void)',
  sum_i32: 'int32_t sum_i32(const int32_t *p, int32_t n)',
  is_null: 'int32_t is_null(void *p)',
  eight: 'int32_t eight(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t)',
  nine: 'int32_t nine(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t)',
  greet: 'const char *greet(void)',
  big: 'int64_t big(void)',
};

let library = '';
let worker: ThreadWorkerHandle;
let report: LoadReport;
const state = new SharedArrayBuffer(64);

before(async () => {
  library = await buildC(SOURCE);
  worker = new ThreadWorkerHandle();
  report = await worker.request((r) => r.load({
    library, copy: library, functions: FUNCTIONS, state: { kind: 'shared', buffer: state }, channel: worker.channel.buffer,
  }));
  worker.channel.open(report, state);
});
after(async () => {
  await worker?.kill();
  await removeTempDirs();
});

test('the channel serves exactly the functions whose arguments and result the ring carries', () => {
  assert.deepEqual(Object.keys(report.fast ?? {}).sort(), Object.keys(FUNCTIONS).filter((n) => n !== 'nine').sort());
  assert.deepEqual(report.fast?.['mix'], { args: ['number', 'number', 'number', 'number', 'int64'], result: 'number' });
  assert.deepEqual(report.fast?.['pick'], { args: ['bool', 'number', 'number'], result: 'number' });
  assert.deepEqual(report.fast?.['sum_i32'], { args: ['pointer', 'number'], result: 'number' });
  assert.deepEqual(report.fast?.['touch'], { args: [], result: 'void' });
  assert.deepEqual(report.fast?.['is_neg'], { args: ['int64'], result: 'bool' });
  assert.deepEqual(report.fast?.['greet'], { args: [], result: 'string' });
  assert.deepEqual(report.fast?.['big'], { args: [], result: 'int64' });
});

test('channel, blocking channel, message and blocking message paths give the same results', async () => {
  const ints = new Int32Array(state, 8, 3);
  ints.set([10, 20, 30]);
  const view = new Uint8Array(state, 8);
  const cases: Array<[string, unknown[]]> = [
    ['add_i32', [1, 2]], ['add_i32', [2147483647, 1]], ['add_i32', [3.7, 0]], ['add_i32', [-5.9, 0]],
    ['add_i32', [Number.NaN, 1]], ['add_i32', [1e10, 0]], ['add_i32', [-0, 0]],
    ['to_u8', [300]], ['to_u8', [-1]], ['neg_i16', [5]], ['neg_i16', [-32768]], ['to_u32', [-1]],
    ['mix', [1.5, 0.1, -3, 65535, -7]], ['halff', [3]], ['halff', [0.1]],
    ['is_neg', [-1]], ['is_neg', [0]], ['is_neg', [2 ** 53]],
    ['pick', [true, 1, 2]], ['pick', [false, 1, 2]],
    ['touch', []], ['touched', []],
    ['sum_i32', [view, 3]], ['sum_i32', [new Int32Array(state, 12, 2), 2]], ['is_null', [null]], ['is_null', [view]],
    ['eight', [1, 2, 3, 4, 5, 6, 7, 8]],
  ];
  for (const [name, args] of cases) {
    const byMessage = await worker.request((r) => r.call(name, args));
    const fast = worker.channel.call(name, args);
    assert.ok(fast !== undefined, `${name} takes the channel`);
    const sync = worker.channel.callSync(name, args);
    assert.notEqual(sync, NOT_FAST, `${name} takes the blocking channel`);
    const blockingMessage = worker.syncCall.call(name, args);
    const label = `${name}(${args.map(String).join(', ')})`;
    assert.deepEqual(await fast, byMessage, label);
    assert.deepEqual(sync, byMessage, label);
    assert.deepEqual(blockingMessage, byMessage, label);
  }
  assert.equal(await worker.channel.call('sum_i32', [view, 3]), 60, 'the pointer is the state block itself');
  assert.equal(await worker.channel.call('touched', []), 4, 'touch ran once per path: four calls');
});

test('calls that do not fit the channel take the message path, with its results and errors', () => {
  for (const [name, args] of [['nine', [1, 2, 3, 4, 5, 6, 7, 8, 9]], ['is_neg', [2n ** 64n]], ['add_i32', ['1', 2]],
    ['add_i32', [1]], ['sum_i32', [new DataView(new ArrayBuffer(8)), 1]], ['sum_i32', [new Uint8Array(65 * 1024), 1]]] as Array<[string, unknown[]]>) {
    assert.equal(worker.channel.call(name, args), undefined, name);
    assert.equal(worker.channel.callSync(name, args), NOT_FAST, name);
  }
  assert.equal(worker.syncCall.call('nine', [1, 2, 3, 4, 5, 6, 7, 8, 9]), 10);
  assert.equal(worker.syncCall.call('sum_i32', [new Uint8Array(65 * 1024), 1]), 0);
  assert.throws(() => worker.syncCall.call('add_i32', ['1', 2]), { code: 'ERR_BAD_ARGUMENTS' });
  assert.throws(() => worker.syncCall.call('nope', []), { code: 'ERR_UNKNOWN_FUNCTION' });
});

test('more calls in one turn than the ring holds all run, in order, each with its own result', async () => {
  const n = SLOTS * 2 + 17;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => worker.channel.call('add_i32', [i, 1])!));
  assert.deepEqual(results, Array.from({ length: n }, (_, i) => i + 1));
  // a blocking call behind a full ring waits for room, then for its own answer
  const many = Array.from({ length: SLOTS + 5 }, (_, i) => worker.channel.call('add_i32', [i, 2])!);
  assert.equal(worker.channel.callSync('add_i32', [40, 2]), 42);
  assert.deepEqual(await Promise.all(many), Array.from({ length: SLOTS + 5 }, (_, i) => i + 2));
  assert.equal(worker.channel.inflight, 0);
});

test('after idling, the worker blocks on the ring and its thread sleeps; a call wakes it, and messages still arrive', async () => {
  const { header } = channelViews(worker.channel.buffer);
  const blocked = async (): Promise<void> => {
    let polls = 0;
    while (Atomics.load(header, WORKER_STATE) !== WORKER_BLOCKED && polls++ < 400) await sleep(5);
    assert.equal(Atomics.load(header, WORKER_STATE), WORKER_BLOCKED, 'the spin backed off to a blocking wait');
  };
  await worker.channel.call('add_i32', [1, 1]);
  await blocked();
  const tid = Atomics.load(header, WORKER_TID);
  assert.ok(tid > 0);
  // /proc/<pid>/task/<tid>/stat, third field: R running, S sleeping. A blocked worker is
  // in the kernel's futex wait (a GC or a slice's end may wake it for a moment: look again).
  const threadState = async (): Promise<string> => (await readFile(`/proc/self/task/${tid}/stat`, 'utf8')).replace(/^.*\) /s, '')[0] ?? '?';
  const seen: string[] = [];
  for (let i = 0; i < 20 && !seen.includes('S'); i++) {
    seen.push(await threadState());
    await sleep(5);
  }
  assert.ok(seen.includes('S'), `the worker thread sleeps (states seen: ${seen.join('')})`);
  assert.equal(await worker.channel.call('add_i32', [20, 22]), 42, 'an await call wakes it');
  await blocked();
  assert.equal(worker.channel.callSync('add_i32', [2, 3]), 5, 'a blocking call wakes it');
  // Its event loop does not run while it blocks: the host nudges it after each message.
  await blocked();
  assert.equal(await worker.request((r) => r.call('greet', [])), 'hello', 'a comlink request to a blocked worker is answered');
  await blocked();
  assert.equal(worker.syncCall.call('greet', []), 'hello', 'so is a blocking message-path call');
});

test('a host blocked in callSync sees its worker end: ERR_VERSION_CRASHED, not a hang', async () => {
  const doomed = new ThreadWorkerHandle();
  const loaded = await doomed.request((r) => r.load({ library, copy: library, functions: FUNCTIONS, channel: doomed.channel.buffer }));
  doomed.channel.open(loaded, undefined);
  assert.equal(doomed.channel.callSync('add_i32', [1, 2]), 3);
  const ended = doomed.worker.terminate(); // the host's event loop cannot see the 'exit' while it blocks
  assert.throws(() => doomed.channel.callSync('add_i32', [1, 2]), { code: 'ERR_VERSION_CRASHED' });
  assert.throws(() => doomed.syncCall.call('greet', []), { code: 'ERR_VERSION_CRASHED' });
  await assert.rejects(doomed.channel.call('add_i32', [1, 2])!, { code: 'ERR_VERSION_CRASHED' });
  await ended;
  await doomed.kill();
});

test('spin budget: misses shrink it to the minimum; a change stamped soon after the spin began grows it back, however late the sleeper woke', () => {
  const spin = new SpinBudget(1, 64);
  assert.equal(spin.spin(() => true), true);
  for (let i = 0; i < 10; i++) assert.equal(spin.spin(() => false), false);
  assert.equal(spin.us, 1, 'a quiet channel stops spinning');
  // The spin began between before and after; on a busy machine a preemption may stretch
  // that span past the budget's maximum, so measure until it is tight (a spin of 1 µs)
  let before = 0;
  let after = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 1000 && after - before > 0.01; i++) {
    before = nowMs();
    assert.equal(spin.spin(() => false), false);
    after = nowMs();
  }
  assert.ok(after - before <= 0.01, `a spin of 1 µs measured within 10 µs (${((after - before) * 1000).toFixed(1)} µs)`);
  spin.caught(before + 5);
  assert.equal(spin.us, 1, 'a change 5 ms later: no spin would have caught it');
  spin.caught(before - 1);
  spin.caught(Number.NaN);
  assert.equal(spin.us, 1, 'a stale stamp, or none, teaches nothing');
  // The sleeper may wake milliseconds later (a busy machine): only the stamp counts.
  spin.caught(after + 0.02);
  assert.ok(spin.us >= 40 && spin.us <= 64, `a change 20 µs after the spin began: spin past it next time (${spin.us} µs)`);
  spin.caught(after + 0.05);
  assert.equal(spin.us, 64, 'never past the maximum');
  let polls = 0;
  assert.equal(spin.spin(() => ++polls === 3), true);
  assert.equal(spin.us, 64);
});
