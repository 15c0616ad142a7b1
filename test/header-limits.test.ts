// The `header` option against what hangs or lies: a FIFO (as the header or included), a
// macro that expands without end, $CC with words, Rust fat pointers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { createIsolatedHost, type IsoswapError } from '../src/index.js';
import { headerFunctions } from '../src/header/function-table.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const headerError = (pattern: RegExp) => (err: IsoswapError): boolean => {
  assert.equal(err.code, 'ERR_HEADER', err.message);
  assert.match(err.message, pattern);
  return true;
};

function fifoIn(dir: string): string {
  const fifo = join(dir, 'pipe.h');
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

/** Whether a process still has `fifo` open for reading: opening it to write without
 *  blocking fails (ENXIO) when none has. */
function fifoHasReader(fifo: string): boolean {
  try {
    openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') return false;
    throw err;
  }
}

function withCC(t: TestContext, cc: string): void {
  const saved = process.env['CC'];
  process.env['CC'] = cc;
  t.after(() => { if (saved === undefined) delete process.env['CC']; else process.env['CC'] = saved; });
}

test('a header that is a FIFO is refused at once; one that includes a FIFO is refused at its deadline and its compiler is killed', async () => {
  const dir = await makeTempDir();
  const fifo = fifoIn(dir);
  await assert.rejects(headerFunctions({ file: fifo, pick: {}, allowSignatureChange: false }), headerError(/not a regular file/));
  const header = join(dir, 'game.h');
  await writeFile(header, `#include <stdint.h>\n#include "pipe.h"\nint32_t do_tick(int32_t);\n`);
  await assert.rejects(headerFunctions({ file: header, pick: {}, allowSignatureChange: false, timeoutMs: 500 }),
    headerError(/did not finish within 500 ms.*killed/));
  assert.equal(fifoHasReader(fifo), false, 'the preprocessor reading the FIFO was killed');
});

test('a macro that expands without end: createIsolatedHost refuses the header within loadTimeoutMs, the compiler killed', async () => {
  const dir = await makeTempDir();
  const header = join(dir, 'bomb.h');
  const levels = Array.from({ length: 40 }, (_, i) => `#define A${i + 1} A${i} A${i}`).join('\n');
  await writeFile(header, `#define A0 int x;\n${levels}\nA40\n`);
  const library = await buildC('int do_tick(int x) { return x; }\n');
  await assert.rejects(createIsolatedHost({ library, header, loadTimeoutMs: 1500 }),
    headerError(/(did not finish within 1500 ms|wrote more than \d+ bytes).*killed/));
});

test('$CC with words, as make splits it: `gcc -std=c11`, a wrapper like `env gcc`', async (t) => {
  const dir = await makeTempDir();
  const header = join(dir, 'game.h');
  await writeFile(header, '#include <stdint.h>\n#define API __attribute__((visibility("default")))\nAPI int32_t do_tick(int32_t);\n');
  withCC(t, 'gcc -std=c11');
  assert.deepEqual(await headerFunctions({ file: header, pick: {}, allowSignatureChange: false }), { do_tick: 'int32_t do_tick(int32_t)' });
  process.env['CC'] = 'env gcc';
  assert.deepEqual(await headerFunctions({ file: header, pick: {}, allowSignatureChange: false }), { do_tick: 'int32_t do_tick(int32_t)' });
  process.env['CC'] = 'gcc -std=no-such-standard';
  await assert.rejects(headerFunctions({ file: header, pick: {}, allowSignatureChange: false }), headerError(/gcc -std=no-such-standard -E\) failed/));
});

test('a Rust pointer to a slice, str or trait object (a fat pointer) is ERR_HEADER naming the function, not a thin void *', async () => {
  const dir = await makeTempDir();
  const cases: Array<[string, string]> = [
    ['take_bytes', 'pub extern "C" fn take_bytes(bytes: *const [u8]) -> i32 { 0 }'],
    ['take_fn', 'pub extern "C" fn take_fn(f: *const dyn Fn()) {}'],
    ['take_str', 'pub extern "C" fn take_str(s: *mut str) {}'],
    ['give_bytes', 'type Bytes = [u8];\n#[no_mangle]\npub extern "C" fn give_bytes() -> *const Bytes { std::ptr::null::<[u8; 0]>() as *const Bytes }'],
  ];
  for (const [name, source] of cases) {
    const file = join(dir, `${name}.rs`);
    await writeFile(file, source.startsWith('type') ? source : `#[no_mangle]\n${source}\n`);
    await assert.rejects(headerFunctions({ file, pick: {}, allowSignatureChange: false }), (err: IsoswapError) => {
      assert.equal(err.code, 'ERR_HEADER', err.message);
      assert.equal(err.details['function'], name);
      assert.match(err.message, /fat pointer/);
      return true;
    });
  }
  const thin = join(dir, 'thin.rs');
  await writeFile(thin, '#[no_mangle]\npub extern "C" fn take(bytes: *const u8, len: usize) -> i32 { 0 }\n');
  assert.deepEqual(await headerFunctions({ file: thin, pick: {}, allowSignatureChange: false }), { take: 'int32_t take(const uint8_t *, size_t)' });
});
