// Issue 27: payload size never changes behaviour. Long string results arrive in process
// isolation (they used to deadlock past the pipe's 64 KiB); a 16 MiB callSync argument
// arrives, and honours callTimeoutMs when the child does not read it; `_Out_`/`_Inout_`
// buffers come back whatever the result type and size, on every path of both isolations.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type Isolation } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';
import { PAYLOAD_SOURCE, patternOf, textOf } from './helpers/payload-fixture.js';

/** text(n): n bytes of a pattern; fill_*: write pattern(i) = (i * 31 + 7) & 255 into p[0..n),
 *  returning n as size_t / int64_t / "filled" / the sum of what p held (_Inout_);
 *  hold(): waits (up to 20 s) for the file `go`; sum(p, n): the sum of n bytes. */
const source = (go: string): string => `${PAYLOAD_SOURCE}
#include <unistd.h>
size_t fill_size(uint8_t *p, int32_t n) { fill_pattern(p, n); return (size_t)n; }
int64_t fill_i64(uint8_t *p, int32_t n) { fill_pattern(p, n); return -(int64_t)n; }
const char *fill_str(uint8_t *p, int32_t n) { fill_pattern(p, n); return "filled"; }
int64_t add_fill(uint8_t *p, int32_t n) { int64_t s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; fill_pattern(p, n); return s; }
int32_t hold(void) { for (int i = 0; i < 20000 && access("${go}", F_OK) != 0; i++) usleep(1000); return 1; }
int64_t sum(const uint8_t *p, int32_t n) { int64_t s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; return s; }
`;
const FUNCTIONS = {
  text: 'const char *text(int32_t n)',
  fill_size: 'size_t fill_size(_Out_ uint8_t *p, int32_t n)',
  fill_i64: 'int64_t fill_i64(_Out_ uint8_t *p, int32_t n)',
  fill_str: 'const char *fill_str(_Out_ uint8_t *p, int32_t n)',
  add_fill: 'int64_t add_fill(_Inout_ uint8_t *p, int32_t n)',
  hold: 'int32_t hold(void)',
  sum: 'int64_t sum(const uint8_t *p, int32_t n)',
};
const ISOLATIONS: Isolation[] = ['thread', 'process'];
const KiB = 1024;
const MiB = 1024 * KiB;

let library = '';
let go = '';
before(async () => {
  go = join(await makeTempDir(), 'go');
  library = await buildC(source(go));
});
after(removeTempDirs);

/** `work`, or a rejection after `ms`: a hang fails the test instead of freezing it. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

const pattern = (n: number): Uint8Array => new Uint8Array(patternOf(n));

test('process isolation: string results of 64 KiB, 1 MiB and 4 MiB arrive, 12 times each (call and callSync)', async (t) => {
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  for (const n of [64 * KiB, MiB, 4 * MiB]) {
    const expected = textOf(n);
    for (let i = 0; i < 12; i++) {
      assert.equal(await within(20_000, `text(${n}) #${i}`, host.call('text', n) as Promise<string>), expected, `text(${n}) #${i}`);
    }
    assert.equal(host.callSync('text', n), expected, `callSync text(${n})`);
    // several in flight at once, each longer than the pipe holds
    const many = await within(30_000, `3 × text(${n})`, Promise.all([1, 2, 3].map(() => host.call('text', n))));
    assert.deepEqual(many, [expected, expected, expected]);
  }
});

test('process isolation: a 16 MiB callSync argument arrives well within callTimeoutMs', async (t) => {
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', callTimeoutMs: 20_000 });
  t.after(() => host.close());
  const big = new Uint8Array(16 * MiB).fill(3);
  const started = performance.now();
  assert.equal(host.callSync('sum', big, big.length), 3 * big.length);
  const ms = performance.now() - started;
  assert.ok(ms < 20_000, `took ${ms.toFixed(0)} ms`);
});

test('process isolation: a 16 MiB callSync argument to a child that does not read it ends with ERR_CALL_TIMEOUT at callTimeoutMs', async (t) => {
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', callTimeoutMs: 500 });
  t.after(() => host.close());
  host.on('error', () => {});
  const held = host.call('hold'); // the child is in native code: it reads nothing meanwhile
  held.catch(() => {});
  await new Promise((resolve) => setImmediate(resolve));
  const started = performance.now();
  assert.throws(() => host.callSync('sum', new Uint8Array(16 * MiB), 16 * MiB), (err) => err instanceof IsoswapError && err.code === 'ERR_CALL_TIMEOUT');
  const ms = performance.now() - started;
  writeFileSync(go, '');
  assert.ok(ms < 10_000, `the write waited ${ms.toFixed(0)} ms (callTimeoutMs 500)`);
  await assert.rejects(held, IsoswapError, 'the version was killed with the timeout');
});

for (const isolation of ISOLATIONS) {
  test(`${isolation} isolation: _Out_/_Inout_ buffers are written back with size_t, int64_t and string results, call and callSync, on the ring and past it`, async (t) => {
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
    t.after(() => host.close());
    // 16 B rides the ring; 200 KiB is more than a ring call carries: the message path
    for (const n of [16, 200 * KiB]) {
      const expected = pattern(n);
      const results = { fill_size: BigInt(n), fill_i64: BigInt(-n), fill_str: 'filled' } as const;
      for (const [name, result] of Object.entries(results) as Array<[keyof typeof results, unknown]>) {
        const viaCall = new Uint8Array(n);
        const value = await host.call(name, viaCall, n);
        assert.equal(typeof value === 'number' ? BigInt(value) : value, result, `${name}(${n}) result`);
        assert.deepEqual(viaCall, expected, `${name}(${n}) via call: bytes written back`);
        const viaSync = Buffer.alloc(n);
        const syncValue = host.callSync(name, viaSync, n);
        assert.equal(typeof syncValue === 'number' ? BigInt(syncValue) : syncValue, result, `${name}(${n}) callSync result`);
        assert.deepEqual(new Uint8Array(viaSync), expected, `${name}(${n}) via callSync: bytes written back`);
      }
      // _Inout_: the library reads what was there, then writes; a view at an offset
      const backing = new Uint8Array(n + 8).fill(1);
      const inout = backing.subarray(8);
      assert.equal(BigInt(await host.call('add_fill', inout, n) as number | bigint), BigInt(n), 'add_fill read the ones');
      assert.deepEqual(inout, expected, `_Inout_ (${n}) written back`);
      assert.deepEqual([...backing.subarray(0, 8)], [1, 1, 1, 1, 1, 1, 1, 1], 'bytes before the view untouched');
    }
  });
}
