// Issue 27, deliverable 6: a property over the call path. Random prototypes from the types
// the host supports (integers of every width, floats, bool, C strings, input, `_Out_` and
// `_Inout_` buffers), random values, hostile ones among them (out of range, wrong type,
// detached, shrunk, shared, views at offsets, huge), `call` and `callSync`, both
// isolations: every call returns what a direct koffi call in this process returns (result
// and the bytes of every buffer), or is refused with an IsoswapError; the host lives.
// `npm test` runs a few dozen cases per isolation, `npm run stress` many more.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import koffi from 'koffi';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type Isolation } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';

type Scalar = 'int8_t' | 'uint8_t' | 'int16_t' | 'uint16_t' | 'int32_t' | 'uint32_t' | 'int64_t' | 'uint64_t' | 'float' | 'double' | 'bool';
type Param = Scalar | 'string' | 'in' | 'out' | 'inout';
type Result = Exclude<Scalar, 'bool' | 'int8_t' | 'uint8_t' | 'int16_t' | 'uint16_t'> | 'bool' | 'void' | 'size_t' | 'string';
interface Signature { params: Param[]; result: Result }

const SCALARS: Scalar[] = ['int8_t', 'uint8_t', 'int16_t', 'uint16_t', 'int32_t', 'uint32_t', 'int64_t', 'uint64_t', 'float', 'double', 'bool'];
const PARAMS: Param[] = [...SCALARS, 'string', 'in', 'out', 'inout'];
const RESULTS: Result[] = ['void', 'int32_t', 'uint32_t', 'int64_t', 'uint64_t', 'size_t', 'float', 'double', 'bool', 'string'];
const STRESS = process.env['ISOSWAP_STRESS'] === '1';
/** Functions in the library: signatures drawn once (seeded), values drawn per case. */
const FUNCTION_COUNT = 24;
const SEED = Number(process.env['FC_SEED'] ?? 27);

const signatures: Signature[] = fc.sample(
  fc.record({ params: fc.array(fc.constantFrom(...PARAMS), { maxLength: 6 }), result: fc.constantFrom(...RESULTS) }),
  { numRuns: FUNCTION_COUNT, seed: SEED },
);
// Past eight arguments (a buffer takes two) a call cannot ride the ring: a few take the message path
signatures.push({ params: ['out', 'in', 'int32_t', 'string', 'inout'], result: 'string' }, { params: ['in', 'out', 'inout', 'double', 'bool'], result: 'int64_t' });

/** The C prototype of function `i` (a buffer is a pointer and its int32 length). */
function prototype(signature: Signature, i: number): string {
  const params = signature.params.flatMap((p, k) => {
    switch (p) {
      case 'string': return [`const char *s${k}`];
      case 'in': return [`const uint8_t *p${k}`, `int32_t n${k}`];
      case 'out': return [`_Out_ uint8_t *p${k}`, `int32_t n${k}`];
      case 'inout': return [`_Inout_ uint8_t *p${k}`, `int32_t n${k}`];
      default: return [`${p} x${k}`];
    }
  });
  const result = signature.result === 'string' ? 'const char *' : `${signature.result} `;
  return `${result}f${i}(${params.join(', ') || 'void'})`;
}

/** Its body: a hash of every argument, written into the out buffers, returned as the result. */
function body(signature: Signature, i: number): string {
  const lines = [`uint64_t h = 1469598103934665603ULL ^ ${i}ULL;`];
  signature.params.forEach((p, k) => {
    switch (p) {
      case 'string': lines.push(`if (s${k}) for (const char *c = s${k}; *c; c++) h = MIX(h, (uint8_t)*c); else h = MIX(h, 7);`); break;
      case 'in': lines.push(`if (p${k}) for (int32_t i = 0; i < n${k}; i++) h = MIX(h, p${k}[i]);`); break;
      case 'out': lines.push(`if (p${k}) for (int32_t i = 0; i < n${k}; i++) p${k}[i] = (uint8_t)((h >> (i % 8)) + i);`); break;
      case 'inout': lines.push(`if (p${k}) for (int32_t i = 0; i < n${k}; i++) { h = MIX(h, p${k}[i]); p${k}[i] = (uint8_t)(p${k}[i] * 3 + 1); }`); break;
      case 'float': case 'double': lines.push(`{ double d = x${k}; uint64_t b; memcpy(&b, &d, 8); h = MIX(h, b); }`); break;
      default: lines.push(`h = MIX(h, (uint64_t)x${k});`);
    }
  });
  switch (signature.result) {
    case 'void': break;
    case 'string': lines.push('static char text[64]; snprintf(text, sizeof text, "h%llu", (unsigned long long)h); return text;'); break;
    case 'float': case 'double': lines.push(`return (${signature.result})(h % 1000003) / 7;`); break;
    case 'bool': lines.push('return h & 1;'); break;
    default: lines.push(`return (${signature.result})h;`);
  }
  return lines.join('\n  ');
}

const SOURCE = `#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#define MIX(h, v) (((h) ^ (uint64_t)(v)) * 1099511628211ULL)
${signatures.map((s, i) => `${prototype(s, i).replace(/_(Out|Inout)_ /g, '')} {\n  ${body(s, i)}\n}`).join('\n')}
`;
const FUNCTIONS: Record<string, string> = Object.fromEntries(signatures.map((s, i) => [`f${i}`, prototype(s, i)]));

/** How a buffer argument is made: its bytes, where it sits, what happens to its memory. */
interface BufferSpec {
  bytes: number[];
  offset: number;
  memory: 'plain' | 'shared' | 'resizable' | 'detached' | 'shrunk' | 'huge' | 'null';
}
type Value = { scalar: unknown } | { buffer: BufferSpec };

const INTEGER_RANGES: Partial<Record<Scalar, [number, number]>> = {
  int8_t: [-128, 127], uint8_t: [0, 255], int16_t: [-32768, 32767], uint16_t: [0, 65535],
  int32_t: [-(2 ** 31), 2 ** 31 - 1], uint32_t: [0, 2 ** 32 - 1],
};
const HOSTILE = fc.constantFrom<unknown>(Number.NaN, Infinity, 1.5, '1', null, undefined, {}, [], 2 ** 53 + 2, -1n, 2n ** 64n, Symbol.for('x'));

function valueOf(param: Param): fc.Arbitrary<Value> {
  const scalar = (a: fc.Arbitrary<unknown>): fc.Arbitrary<Value> => fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: HOSTILE }).map((v) => ({ scalar: v }));
  const range = INTEGER_RANGES[param as Scalar];
  if (range !== undefined) return scalar(fc.oneof(fc.integer({ min: range[0], max: range[1] }), fc.constantFrom(...range, range[0] - 1, range[1] + 1)));
  switch (param) {
    case 'int64_t': return scalar(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.maxSafeInteger()));
    case 'uint64_t': return scalar(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.maxSafeNat()));
    case 'float': case 'double': return scalar(fc.double());
    case 'bool': return scalar(fc.boolean());
    case 'string': return scalar(fc.oneof({ weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
      { weight: 1, arbitrary: fc.constant('x'.repeat(200_000)) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(Buffer.from('raw\0')) }));
    default: return fc.record({
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }),
      offset: fc.integer({ min: 0, max: 9 }),
      memory: fc.constantFrom('plain', 'plain', 'shared', 'resizable', 'detached', 'shrunk', 'huge', 'null'),
    }).map((buffer) => ({ buffer }));
  }
}

const Resizable = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void };

/** A fresh buffer argument as `spec` says (a new one for each side of the comparison). */
function makeBuffer(spec: BufferSpec): Uint8Array | null {
  if (spec.memory === 'null') return null;
  const length = spec.memory === 'huge' ? 2 * 1024 * 1024 + spec.bytes.length : spec.bytes.length;
  const size = spec.offset + length;
  const memory = spec.memory === 'shared' ? new SharedArrayBuffer(size)
    : spec.memory === 'resizable' || spec.memory === 'shrunk' ? new Resizable(size, { maxByteLength: size + 16 }) : new ArrayBuffer(size);
  const view = new Uint8Array(memory, spec.offset, length);
  view.set(spec.bytes);
  if (spec.memory === 'detached') structuredClone(memory, { transfer: [memory as ArrayBuffer] });
  if (spec.memory === 'shrunk') (memory as InstanceType<typeof Resizable>).resize(spec.offset); // the view is now out of bounds
  return view;
}

/** The call's arguments (a buffer followed by its length as it reads now). */
function materialize(values: Value[]): { args: unknown[]; buffers: Array<Uint8Array | null> } {
  const args: unknown[] = [];
  const buffers: Array<Uint8Array | null> = [];
  for (const value of values) {
    if ('scalar' in value) {
      args.push(value.scalar);
      continue;
    }
    const view = makeBuffer(value.buffer);
    buffers.push(view);
    args.push(view, view?.length ?? 0);
  }
  return { args, buffers };
}

const callCase = fc.integer({ min: 0, max: signatures.length - 1 }).chain((index) =>
  fc.record({ index: fc.constant(index), values: fc.tuple(...signatures[index]!.params.map(valueOf)), sync: fc.boolean() }));

let library = '';
const direct = new Map<string, (...args: unknown[]) => unknown>();
before(async () => {
  library = await buildC(SOURCE);
  const lib = koffi.load(library);
  for (const [name, proto] of Object.entries(FUNCTIONS)) direct.set(name, lib.func(proto) as (...args: unknown[]) => unknown);
});
after(removeTempDirs);

/** A view's bytes (none when it is out of bounds: iterating it would throw). */
const bytesOf = (view: Uint8Array | null): number[] | null => (view === null ? null : Array.from({ length: view.length }, (_, i) => view[i]!));

for (const isolation of ['thread', 'process'] as Isolation[]) {
  test(`${isolation} isolation: random prototypes and values, hostile buffers among them: a call returns what koffi returns, or an IsoswapError; the host lives`, async (t) => {
    const host: IsolatedHost = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
    t.after(() => host.close());
    const warnings: IsoswapError[] = [];
    host.on('warning', (err) => warnings.push(err));
    let served = 0;
    await fc.assert(fc.asyncProperty(callCase, async ({ index, values, sync }) => {
      const name = `f${index}`;
      const mine = materialize(values);
      let result: unknown;
      try {
        result = sync ? host.callSync(name, ...mine.args) : await host.call(name, ...mine.args);
      } catch (err) {
        assert.ok(err instanceof IsoswapError, `${name} (${FUNCTIONS[name]}) threw an untyped ${String(err)}`);
        assert.notEqual(err.code, 'ERR_VERSION_CRASHED', `${name}: ${err.message}`);
        return;
      }
      served++;
      const theirs = materialize(values);
      assert.deepEqual(result, direct.get(name)!(...theirs.args), `${name} (${FUNCTIONS[name]}): the result`);
      assert.deepEqual(mine.buffers.map(bytesOf), theirs.buffers.map(bytesOf), `${name} (${FUNCTIONS[name]}): the buffers' bytes`);
    }), { numRuns: STRESS ? 1000 : 40, seed: SEED });
    assert.ok(served > 0, 'some calls were served');
    assert.deepEqual(warnings, [], 'no buffer changed during a call: nothing was lost');
    assert.equal(await host.call('f0', ...materialize(fc.sample(fc.tuple(...signatures[0]!.params.map(valueOf)), { numRuns: 1, seed: 1 })[0]!).args).then(() => true, (e: unknown) => e instanceof IsoswapError), true, 'the host serves on');
  });
}
