// Issue 27: payload size never changes behaviour. Strings and buffers as arguments and
// results, `_Out_` buffers written back, call and callSync, both isolations: each arrives
// whole, across the sizes where the path changes (the ring carries 64 KiB a call, a pipe
// holds 64 KiB). `npm run stress` (ISOSWAP_STRESS=1) adds 16 MiB and 100 MiB.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createIsolatedHost, type Isolation } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';
import { PAYLOAD_SOURCE, patternOf, textOf } from './helpers/payload-fixture.js';

const SOURCE = `${PAYLOAD_SOURCE}
#include <string.h>
size_t len(const char *s) { return strlen(s); }
int64_t sum(const uint8_t *p, int32_t n) { int64_t s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; return s; }
int32_t fill(uint8_t *p, int32_t n) { fill_pattern(p, n); return n; }
`;
const FUNCTIONS = {
  len: 'size_t len(const char *s)',
  sum: 'int64_t sum(const uint8_t *p, int32_t n)',
  text: 'const char *text(int32_t n)',
  fill: 'int32_t fill(_Out_ uint8_t *p, int32_t n)',
};
const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, MiB, ...(process.env['ISOSWAP_STRESS'] === '1' ? [16 * MiB, 100 * MiB] : [])];
const ISOLATIONS: Isolation[] = ['thread', 'process'];
/** Every call must end within this (the largest take well under a second here). */
const CALL_TIMEOUT_MS = 120_000;

let library = '';
before(async () => { library = await buildC(SOURCE); });
after(removeTempDirs);

const asBigInt = (value: unknown): bigint => BigInt(value as number | bigint);

for (const isolation of ISOLATIONS) {
  test(`${isolation} isolation: strings and buffers of ${SIZES.join(', ')} bytes, as arguments, results and _Out_ buffers, call and callSync`, async (t) => {
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation, callTimeoutMs: CALL_TIMEOUT_MS });
    t.after(() => host.close());
    for (const n of SIZES) {
      const argument = textOf(n);
      assert.equal(asBigInt(await host.call('len', argument)), BigInt(n), `len(${n}) via call`);
      assert.equal(asBigInt(host.callSync('len', argument)), BigInt(n), `len(${n}) via callSync`);
      const ones = new Uint8Array(n).fill(1);
      assert.equal(asBigInt(await host.call('sum', ones, n)), BigInt(n), `sum(${n}) via call`);
      assert.equal(asBigInt(host.callSync('sum', ones, n)), BigInt(n), `sum(${n}) via callSync`);
      assert.ok(await host.call('text', n) === argument, `text(${n}) via call`);
      assert.ok(host.callSync('text', n) === argument, `text(${n}) via callSync`);
      const expected = patternOf(n);
      const viaCall = Buffer.alloc(n);
      assert.equal(await host.call('fill', viaCall, n), n);
      assert.ok(viaCall.equals(expected), `fill(${n}) via call: written back`);
      const viaSync = Buffer.alloc(n);
      assert.equal(host.callSync('fill', viaSync, n), n);
      assert.ok(viaSync.equals(expected), `fill(${n}) via callSync: written back`);
    }
  });
}
