// A Node-API addon's exports on the shared-memory ring, in a worker thread and in a child
// process: every value the ring carries (numbers, BigInts, booleans, null, undefined,
// strings, Buffers, typed arrays) comes back as a direct call gives it and as the message
// paths give it (a property test over those types, one to eight arguments); what the
// addon writes into an array it was passed is written back; a Promise is answered once
// it settles, in order with the calls after it; results the ring cannot carry, errors,
// and arguments it does not take behave as on the message path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { IsoswapError } from '../src/index.js';
import { NOT_FAST, type CallChannel } from '../src/transport/call-channel.js';
import { ThreadWorkerHandle } from '../src/runtime/thread/thread-worker-handle.js';
import { ChildProcessHandle } from '../src/runtime/process/child-process-handle.js';
import type { LoadReport } from '../src/wire/protocol.js';
import { wireForm, WIRE_TAG } from '../src/wire/addon-wire.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

/** One version of the test addon, served by a worker, reachable on each path. */
interface Served {
  path: string;
  report: LoadReport;
  channel: CallChannel;
  message(name: string, args: unknown[]): Promise<unknown>;
  blocking(name: string, args: unknown[]): unknown;
  end(): Promise<void>;
}

async function inThread(): Promise<Served> {
  const path = await buildAddon(1);
  const worker = new ThreadWorkerHandle();
  const report = await worker.request((r) => r.load({ library: path, copy: path, functions: {}, addon: true, channel: worker.channel.buffer }));
  worker.channel.open(report, undefined);
  return {
    path, report, channel: worker.channel,
    message: (name, args) => worker.request((r) => r.call(name, args)).then(unwire),
    blocking: (name, args) => unwire(worker.syncCall.call(name, args)),
    end: () => worker.kill(),
  };
}

async function inProcess(): Promise<Served> {
  const path = await buildAddon(1);
  const child = new ChildProcessHandle();
  const report = await child.request((r) => r.load({ library: path, copy: path, functions: {}, addon: true, processRing: true }));
  child.channel!.open(report, undefined);
  return {
    path, report, channel: child.channel!,
    message: (name, args) => child.request((r) => r.call(name, args)).then(unwire),
    blocking: (name, args) => unwire(child.syncCall.call(name, args)),
    end: () => child.kill(),
  };
}

/** What the host's addon codec makes of a result (src/addon/addon-values.ts): this test
 *  talks to the runtime below it, where a Buffer the ring does not carry itself (inside an
 *  array, or on a message path) is in its wire form. */
function unwire(value: unknown): unknown {
  const form = wireForm(value);
  if (form?.[WIRE_TAG] === 'buffer') return Buffer.from(form.bytes.buffer, form.bytes.byteOffset, form.bytes.byteLength);
  return Array.isArray(value) ? value.map(unwire) : value;
}

/** The addon called in this thread. */
const direct = { exports: {} as TestAddon };
before(async () => process.dlopen(direct, await buildAddon(1)));

/** A call that must take the ring. */
function onRing(served: Served, name: string, args: unknown[]): Promise<unknown> {
  const answer = served.channel.call(name, args);
  assert.ok(answer !== undefined, `${name} takes the ring`);
  return answer.then(unwire);
}

function onRingSync(served: Served, name: string, args: unknown[]): unknown {
  const answer = served.channel.callSync(name, args);
  assert.notEqual(answer, NOT_FAST, `${name} takes the blocking ring`);
  return unwire(answer);
}

/** `got` is `expected`. `cloned`: one of them crossed as a structured clone (a message
 *  path; an object result the ring posts), which in thread isolation makes a Buffer a
 *  plain Uint8Array of the same bytes. */
function sameValue(got: unknown, expected: unknown, label: string, cloned = false): void {
  assert.deepStrictEqual(cloned ? unBuffer(got) : got, cloned ? unBuffer(expected) : expected, label);
}

function unBuffer(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return new Uint8Array(value);
  return Array.isArray(value) ? value.map(unBuffer) : value;
}

const ARRAYS: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ minLength: 1 }).map((a) => Buffer.from(a)), fc.uint8Array({ minLength: 1 }), fc.int8Array({ minLength: 1 }),
  fc.int16Array({ minLength: 1 }), fc.uint16Array({ minLength: 1 }), fc.int32Array({ minLength: 1 }), fc.uint32Array({ minLength: 1 }),
  fc.float32Array({ minLength: 1 }), fc.float64Array({ minLength: 1 }), fc.bigInt64Array({ minLength: 1 }), fc.bigUint64Array({ minLength: 1 }),
  fc.uint8Array({ minLength: 1 }).map((a) => new Uint8ClampedArray(a)),
);
/** Every kind of value the ring carries. */
const VALUE: fc.Arbitrary<unknown> = fc.oneof(
  fc.double(), fc.integer(), fc.bigInt(), fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), fc.boolean(), fc.constant(null),
  fc.constant(undefined), fc.string(), fc.string({ unit: 'binary', maxLength: 80 }), ARRAYS,
);

/** Values at the edges of each encoding. */
const EDGES: unknown[] = [
  0, -0, Number.NaN, Infinity, -Infinity, 2 ** 53 + 2, 5e-324, 0n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n,
  -(2n ** 64n), 2n ** 1000n, true, false, null, undefined, '', 'héllo ☃ 𝄞', 'a\0b', 'x'.repeat(64), 'ü'.repeat(5000),
  Buffer.from('abc'), Buffer.alloc(10_000, 7), new Uint8Array([1, 2, 3]).subarray(1), new Float64Array([0.5, -0]),
  new BigUint64Array([2n ** 64n - 1n]), new Float32Array(300),
];

for (const [isolation, serve] of [['thread', inThread], ['process', inProcess]] as const) {
  describe(`${isolation} isolation`, () => {
    let served: Served;
    before(async () => { served = await serve(); });
    after(() => served.end());

    test('every export is served on the ring', () => {
      assert.deepEqual(Object.keys(served.report.fast ?? {}).sort(), Object.keys(direct.exports).filter((k) => !['BUILD', 'isoswapLoad', 'isoswapUnload'].includes(k)).sort());
    });

    test('values at the edges: the ring (call and callSync) gives what a direct call and the message paths give', async () => {
      for (const value of EDGES) {
        const label = `echo(${typeof value === 'string' ? JSON.stringify(value.slice(0, 20)) : String(value).slice(0, 30)})`;
        const expected = direct.exports.echo(value);
        sameValue(await onRing(served, 'echo', [value]), expected, label);
        sameValue(onRingSync(served, 'echo', [value]), expected, `${label}, callSync`);
        sameValue(await onRing(served, 'echo', [value]), await served.message('echo', [value]), `${label}, message path`, true);
        sameValue(onRingSync(served, 'echo', [value]), served.blocking('echo', [value]), `${label}, blocking message path`, true);
      }
    });

    test('property: any one to eight values, on every path, as a direct call gives them', async () => {
      await fc.assert(fc.asyncProperty(fc.array(VALUE, { minLength: 1, maxLength: 8 }), async (args) => {
        const expected = direct.exports.list(...args);
        sameValue(await onRing(served, 'list', args), expected, 'list, ring', true);
        sameValue(onRingSync(served, 'list', args), expected, 'list, blocking ring', true);
        sameValue(await served.message('list', args), expected, 'list, message path', true);
        sameValue(await onRing(served, 'echo', args), direct.exports.echo(args[0]), 'echo, ring');
        for (const arg of args) {
          if (ArrayBuffer.isView(arg)) assert.equal(await onRing(served, 'checksum', [arg]), direct.exports.checksum(arg), 'the addon reads the bytes sent');
        }
      }), { numRuns: 150 });
    });

    test('what the addon writes into an array it was passed is written back, on every path the ring has', async () => {
      const buffer = Buffer.alloc(5);
      assert.equal(await onRing(served, 'fill', [buffer, 7]), undefined);
      assert.deepEqual([...buffer], [7, 7, 7, 7, 7]);
      const floats = new Float32Array(2);
      onRingSync(served, 'fill', [floats, 0x3f]);
      const expected = new Float32Array(2);
      direct.exports.fill(expected, 0x3f);
      assert.deepEqual(floats, expected);
      const whole = new Uint8Array(6);
      await onRing(served, 'fill', [whole.subarray(2, 4), 9]);
      assert.deepEqual([...whole], [0, 0, 9, 9, 0, 0], 'only the view the addon was given');
      const async = new Uint8Array(3);
      assert.equal(await onRing(served, 'later', ['done', async, 4]), 'done');
      assert.deepEqual([...async], [4, 4, 4], 'written by async work, back once the Promise settled');
    });

    test('an array detached while the addon wrote into it: the call resolves and ERR_BUFFER_LOST is reported', async (t) => {
      const lost: IsoswapError[] = [];
      served.channel.onLost = (err) => lost.push(err);
      t.after(() => { served.channel.onLost = undefined; });
      const bytes = new Uint8Array(4);
      const answer = onRing(served, 'later', [1, bytes, 5]);
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
      assert.equal(await answer, 1);
      assert.deepEqual(lost.map((e) => [e.code, e.details]), [['ERR_BUFFER_LOST', { function: 'later', position: 2 }]]);
    });

    test('Promises settle in the worker; their answers and the calls after them come in order, each its own', async () => {
      const long = 'long '.repeat(40);
      const calls: Array<[string, unknown[], unknown]> = [];
      for (let i = 0; i < 60; i++) {
        calls.push(
          ['later', [i], i], ['echo', [`${long}${i}`], `${long}${i}`], ['later', [`${long}+${i}`], `${long}+${i}`], ['list', [i], [i]], ['tick', [i], i + 1],
        );
      }
      const answers = await Promise.all(calls.map(([name, args]) => onRing(served, name, args)));
      assert.deepEqual(answers, calls.map(([, , expected]) => expected));
      assert.equal(served.channel.inflight, 0);
    });

    test('errors, results the ring cannot carry, and callSync of a Promise: as on the message path', async () => {
      const outcome = async (call: () => unknown): Promise<unknown> => {
        try {
          return { value: await call() };
        } catch (err) {
          assert.ok(err instanceof IsoswapError, String(err));
          return { code: err.code, message: err.message, details: err.details };
        }
      };
      const calls: Array<[string, unknown[]]> = [
        ['fail', []], ['jsThrow', []], ['makeFunction', []], ['addLater', [1, 2]], ['later', [1, new Uint8Array(2), 3, true]],
      ];
      for (const [name, args] of calls) {
        const byMessage = await outcome(() => served.message(name, args));
        assert.deepEqual(await outcome(() => onRing(served, name, args)), byMessage, name);
        assert.deepEqual(await outcome(() => onRingSync(served, name, args)), await outcome(() => served.blocking(name, args)), `${name}, callSync`);
      }
      assert.equal((await outcome(() => onRing(served, 'fail', [])) as { code: string }).code, 'ERR_ADDON_THREW');
      assert.deepEqual(await outcome(() => onRing(served, 'later', [1, undefined, 0, true])), {
        code: 'ERR_ADDON_THREW', message: `later in ${served.path} threw ELATER: the async work failed on purpose`,
        details: { function: 'later', file: served.path, code: 'ELATER', name: 'Error', message: 'the async work failed on purpose' },
      }, 'a rejected Promise');
      assert.equal((await outcome(() => onRing(served, 'makeFunction', [])) as { code: string }).code, 'ERR_NOT_CLONEABLE');
      assert.equal((await outcome(() => onRingSync(served, 'addLater', [1, 2])) as { code: string }).code, 'ERR_BAD_ARGUMENTS');
      assert.deepEqual(await onRing(served, 'list', []), [], 'no arguments; an array comes back');
    });

    test('arguments the ring does not carry take the message path', () => {
      const shared = new Uint8Array(new SharedArrayBuffer(4));
      const refused: unknown[][] = [
        [() => 1], [{ a: 1 }], [[1]], [AbortSignal.abort()], [shared], [new DataView(new ArrayBuffer(2))], [Symbol('s')],
        [new Uint8Array(0)], ['\udc00'], Array.from({ length: 9 }, (_, i) => i),
        [new (class Bytes extends Uint8Array {})(2)], [new Uint8Array(new (ArrayBuffer as new (n: number, o: object) => ArrayBuffer)(4, { maxByteLength: 8 }))],
      ];
      for (const args of refused) {
        assert.equal(served.channel.call('list', args), undefined, String(args[0]));
        assert.equal(served.channel.callSync('list', args), NOT_FAST, String(args[0]));
      }
    });
  });
}
