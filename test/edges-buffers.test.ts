// Issue 27: hostile buffers. A detached view as an argument is refused with a typed error;
// an `_Out_` buffer detached or shrunk while its call runs: the call resolves, the host
// emits a 'warning' (ERR_BUFFER_LOST) and lives; a fresh SharedArrayBuffer per call is not
// kept by the ring (thread isolation).
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createIsolatedHost, IsoswapError, type Isolation } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

/** slow_fill(p, n): tells `started`, waits (up to 20 s) for `go`, then fills p[0..n). */
const source = (started: string, go: string): string => `#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
int32_t slow_fill(uint8_t *p, int32_t n) {
  fclose(fopen("${started}", "w"));
  for (int i = 0; i < 20000 && access("${go}", F_OK) != 0; i++) usleep(1000);
  for (int32_t i = 0; i < n; i++) p[i] = (uint8_t)i;
  return n;
}
int32_t sum_u8(const uint8_t *p, int32_t n) { int32_t s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; return s; }
int32_t sum2(const uint8_t *a, int32_t n, const uint8_t *b, int32_t m) { return sum_u8(a, n) + sum_u8(b, m); }
`;
const FUNCTIONS = {
  slow_fill: 'int32_t slow_fill(_Out_ uint8_t *p, int32_t n)',
  sum_u8: 'int32_t sum_u8(const uint8_t *p, int32_t n)',
  sum2: 'int32_t sum2(const uint8_t *a, int32_t n, const uint8_t *b, int32_t m)',
};
const ISOLATIONS: Isolation[] = ['thread', 'process'];
const RSS_CHILD = fileURLToPath(new URL('fixtures/shared-buffer-rss.js', import.meta.url));
const run = promisify(execFile);

let library = '';
let started = '';
let go = '';
before(async () => {
  const dir = await makeTempDir();
  started = join(dir, 'started');
  go = join(dir, 'go');
  library = await buildC(source(started, go));
});
after(removeTempDirs);

/** Waits (bounded) until the library said it runs. */
async function running(): Promise<void> {
  for (let i = 0; i < 2000 && !existsSync(started); i++) await sleep(10);
  assert.ok(existsSync(started), 'the call started');
}

/** ES2024's resizable ArrayBuffer (Node 20 has it; this project's TypeScript lib predates it). */
const Resizable = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void };
const detach = (buffer: ArrayBufferLike): void => { structuredClone(buffer, { transfer: [buffer as ArrayBuffer] }); };

for (const isolation of ISOLATIONS) {
  test(`${isolation} isolation: a detached view as an argument is refused with ERR_BAD_ARGUMENTS (call and callSync)`, async (t) => {
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
    t.after(() => host.close());
    const view = new Uint8Array(16);
    detach(view.buffer);
    const refused = (err: unknown): boolean => err instanceof IsoswapError && err.code === 'ERR_BAD_ARGUMENTS' && /detached/.test(err.message);
    await assert.rejects(host.call('sum_u8', view, 0), refused);
    assert.throws(() => host.callSync('sum_u8', view, 0), refused);
    assert.equal(await host.call('sum_u8', new Uint8Array([1, 2]), 2), 3, 'the host serves on');
  });

  test(`${isolation} isolation: a view left out of bounds by a shrunk resizable buffer, beside one too big for the ring: served or ERR_BAD_ARGUMENTS, never an untyped error`, async (t) => {
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
    t.after(() => host.close());
    const big = new Uint8Array(100 * 1024).fill(1);
    const memory = new Resizable(16, { maxByteLength: 32 });
    const outOfBounds = new Uint8Array(memory, 8, 8);
    memory.resize(4);
    await host.call('sum2', big, big.length, outOfBounds, 0).then(
      (sum) => assert.equal(sum, big.length),
      (err: unknown) => assert.ok(err instanceof IsoswapError && err.code === 'ERR_BAD_ARGUMENTS', String(err)));
    assert.equal(await host.call('sum_u8', Uint8Array.of(4, 5), 2), 9, 'the host serves on');
  });

  // 64 bytes ride the ring (a copy in its arena); 100 KiB is more than a ring call carries
  for (const size of [64, 100 * 1024]) {
    for (const how of ['detached', 'shrunk'] as const) {
      test(`${isolation} isolation: an _Out_ buffer of ${size} bytes ${how} while its call runs: the call resolves, a 'warning' says the bytes were not written back, the host lives`, async (t) => {
        rmSync(started, { force: true });
        rmSync(go, { force: true });
        const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
        t.after(() => host.close());
        const warnings: IsoswapError[] = [];
        host.on('warning', (err) => warnings.push(err));
        const buffer = new Resizable(size, { maxByteLength: size });
        const view = new Uint8Array(buffer);
        const call = host.call('slow_fill', view, size);
        await running();
        if (how === 'detached') detach(buffer);
        else buffer.resize(size / 2);
        writeFileSync(go, '');
        assert.equal(await call, size, 'the call resolves: it ran');
        assert.equal(warnings.length, 1, 'one warning');
        assert.equal(warnings[0]!.code, 'ERR_BUFFER_LOST');
        assert.equal(warnings[0]!.details['position'], 1);
        assert.equal(await host.call('sum_u8', Uint8Array.of(4, 5), 2), 9, 'the host serves on');
      });
    }
  }
}

// V8 collects garbage SharedArrayBuffers late whoever made them (800 of them, no host at
// all: RSS +416 MB before a collection), and glibc keeps freed 1 MiB blocks for reuse
// (its mmap threshold grows), so RSS says little in this process. The child measures
// with collections in the host and a fixed mmap threshold: what grows is what isoswap
// keeps. The worker's isolate is never collected there: a buffer it held would stay.
test('thread isolation: 800 calls each with a fresh 1 MiB SharedArrayBuffer: RSS grows less than 100 MB', async () => {
  const { stdout } = await run(process.execPath, ['--expose-gc', RSS_CHILD, library], {
    timeout: 120_000, env: { ...process.env, MALLOC_MMAP_THRESHOLD_: String(128 * 1024) },
  });
  const { grownMb } = JSON.parse(stdout.trim().split('\n').pop()!) as { grownMb: number };
  assert.ok(grownMb < 100, `RSS grew ${grownMb.toFixed(0)} MB over 800 × 1 MiB`);
});
