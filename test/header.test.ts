// `header`: the functions are read from the library's own C header (after cc -E) or Rust
// source, served and called; unmappable types name their line; `functions` picks and
// renames; without a C compiler the raw file is read.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { headerFunctions } from '../src/header/function-table.js';
import { buildC, buildRust, cargoAvailable, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const GAME_H = fileURLToPath(new URL('../../test/fixtures/header/game.h', import.meta.url));
const GAME_C = fileURLToPath(new URL('../../test/fixtures/header/game.c', import.meta.url));
const RUST_LIB = fileURLToPath(new URL('../../native/rust/src/lib.rs', import.meta.url));

/** What a person would write by hand for game.h, in `functions`. */
const HAND_WRITTEN = {
  neg_i8: 'int8_t neg_i8(int8_t)',
  add_i16: 'int16_t add_i16(int16_t, int16_t)',
  do_tick: 'int32_t do_tick(int32_t)',
  mul_i64: 'int64_t mul_i64(int64_t, int64_t)',
  inc_u8: 'uint8_t inc_u8(uint8_t)',
  inc_u16: 'uint16_t inc_u16(uint16_t)',
  inc_u32: 'uint32_t inc_u32(uint32_t)',
  shl_u64: 'uint64_t shl_u64(uint64_t, uint32_t)',
  half: 'float half(float)',
  mean: 'double mean(double, double)',
  is_even: 'bool is_even(int32_t)',
  greet: 'const char *greet(void)',
  name_length: 'size_t name_length(const char *)',
  sum: 'int32_t sum(const int32_t *, size_t)',
  new_game: 'void *new_game(int32_t)',
  game_score: 'int32_t game_score(void *)',
  game_handle: 'void *game_handle(void *)',
  free_game: 'void free_game(void *)',
  reset: 'void reset(void)',
};

/** game.c built into a temp dir (it includes game.h from the fixtures). */
async function buildGame(): Promise<string> {
  return buildC(await readFile(GAME_C, 'utf8'), undefined, [`-I${join(GAME_H, '..')}`]);
}

/** Writes `text` to `name` in a new temp dir; returns its path. */
async function tempFile(name: string, text: string): Promise<string> {
  const file = join(await makeTempDir(), name);
  await writeFile(file, text);
  return file;
}

test('a header with every supported type, behind an export macro in extern "C": served and called', async () => {
  const host = await createIsolatedHost({ library: await buildGame(), header: GAME_H });
  try {
    assert.deepEqual(Object.keys(host.fns), Object.keys(HAND_WRITTEN));
    assert.deepEqual(await headerFunctions({ file: GAME_H, pick: {}, allowSignatureChange: false }), HAND_WRITTEN);
    const { fns } = host;
    assert.equal(await fns.neg_i8!(5), -5);
    assert.equal(await fns.add_i16!(30000, 2767), 32767);
    assert.equal(await fns.do_tick!(3), 3);
    assert.equal(await fns.do_tick!(4), 7);
    assert.equal(await fns.mul_i64!(2 ** 31, 4), 2 ** 33);
    assert.equal(await fns.inc_u8!(255), 0);
    assert.equal(await fns.inc_u16!(65535), 0);
    assert.equal(await fns.inc_u32!(2 ** 32 - 1), 0);
    assert.equal(BigInt(await fns.shl_u64!(1, 40)), 1n << 40n);
    assert.equal(await fns.half!(3), 1.5);
    assert.equal(await fns.mean!(1.5, 2.5), 2);
    assert.equal(await fns.is_even!(4), true);
    assert.equal(await fns.greet!(), 'hello from game.h');
    assert.equal(await fns.name_length!('isoswap'), 7);
    assert.equal(host.callSync('sum', new Int32Array([1, 2, 3, 4]), 4), 10);
    // pointers to a struct take a buffer laid out as it (struct game { int32_t score; })
    assert.ok(host.callSync('new_game', 42) !== null);
    const game = new Int32Array([42]);
    assert.equal(host.callSync('game_score', game), 42);
    assert.ok(host.callSync('game_handle', game) !== null);
    assert.equal(host.callSync('free_game', null), undefined); // free(NULL)
    assert.equal(await fns.reset!(), undefined);
    assert.equal(await fns.do_tick!(1), 1);
  } finally {
    await host.close();
  }
});

test('functions with header picks and renames; a prototype in it must agree with the header', async () => {
  const library = await buildGame();
  const host = await createIsolatedHost({ library, header: GAME_H, functions: { tick: 'do_tick', hello: 'const char *greet(void)' } });
  try {
    assert.deepEqual(Object.keys(host.fns), ['tick', 'hello']);
    assert.equal(await host.call('tick', 2), 2);
    assert.equal(await host.call('hello'), 'hello from game.h');
    // @ts-expect-error the header's name, not the call name it was renamed to
    await assert.rejects(host.call('do_tick', 1), { code: 'ERR_UNKNOWN_FUNCTION' });
  } finally {
    await host.close();
  }
  await assert.rejects(createIsolatedHost({ library, header: GAME_H, functions: { tick: 'int32_t do_tick(int32_t dt)', mean: 'float mean(float, float)' } }), (err: IsoswapError) => {
    assert.equal(err.code, 'ERR_SIGNATURE_CHANGED');
    assert.match(err.message, /functions\.mean declares 'float mean\(float, float\)' but .*game\.h:31 declares 'double mean\(double, double\)'/);
    return true;
  });
  await assert.rejects(createIsolatedHost({ library, header: GAME_H, functions: { tick: 'no_such_fn' } }),
    { code: 'ERR_HEADER', message: /functions\.tick names no_such_fn, which .*game\.h does not export/ });
  await assert.rejects(createIsolatedHost({ library, header: join(GAME_H, '..', 'missing.h') }), { code: 'ERR_HEADER', message: /missing\.h does not exist/ });
});

test('unsupported types and syntax errors are ERR_HEADER naming the line; functions may pick around unsupported types', async () => {
  const header = await tempFile('bad.h', `#include <stdint.h>
typedef struct { float x, y; } vec2;
typedef void (*on_tick)(int32_t);
int32_t do_tick(int32_t dt);
vec2 position(void);
void set_callback(on_tick cb);
int log_line(const char *format, ...);
void move(vec2 by);
`);
  const problems: Array<[string, number, RegExp]> = [
    ['position', 5, /result: vec2 is passed by value/],
    ['set_callback', 6, /parameter cb: on_tick is a callback/],
    ['log_line', 7, /variadic/],
    ['move', 8, /parameter by: vec2 is passed by value/],
  ];
  const library = await buildC('#include <stdint.h>\nint32_t do_tick(int32_t dt) { return dt * 2; }\n');
  await assert.rejects(createIsolatedHost({ library, header }), (err: IsoswapError) => {
    assert.equal(err.code, 'ERR_HEADER');
    assert.match(err.message, /bad\.h:5: position: result: vec2 is passed by value/);
    assert.deepEqual([err.details['line'], err.details['function']], [5, 'position']);
    return true;
  });
  for (const [name, line, why] of problems) {
    await assert.rejects(headerFunctions({ file: header, pick: { [name]: name }, allowSignatureChange: false }), (err: IsoswapError) => {
      assert.equal(err.code, 'ERR_HEADER');
      assert.ok(err.message.includes(`bad.h:${line}: ${name}: `), err.message);
      assert.match(err.message, why);
      return true;
    });
  }
  const broken = await tempFile('broken.h', '#include <stdint.h>\nint32_t ok(void);\nint32_t do_tick(int32_t dt;\n');
  await assert.rejects(headerFunctions({ file: broken, pick: {}, allowSignatureChange: false }),
    { code: 'ERR_HEADER', message: /broken\.h:3: cannot parse `int32_t do_tick\(int32_t dt;`/ });
  const host = await createIsolatedHost({ library, header, functions: { do_tick: 'do_tick' } });
  try {
    assert.equal(await host.call('do_tick', 21), 42);
  } finally {
    await host.close();
  }
});

test('an extern "C" block without a guard; without a C compiler the raw header is read, and a macro is an error naming its line', async (t) => {
  const plain = await tempFile('plain.h', `#include <stdint.h>
extern "C" {
/* declared without any macro */
int32_t do_tick(int32_t dt);
_Bool ready(void);
}
`);
  const expected = { do_tick: 'int32_t do_tick(int32_t)', ready: 'bool ready(void)' };
  assert.deepEqual(await headerFunctions({ file: plain, pick: {}, allowSignatureChange: false }), expected);
  const saved = process.env['CC'];
  process.env['CC'] = join(await makeTempDir(), 'no-such-cc');
  t.after(() => { if (saved === undefined) delete process.env['CC']; else process.env['CC'] = saved; });
  assert.deepEqual(await headerFunctions({ file: plain, pick: {}, allowSignatureChange: false }), expected);
  await assert.rejects(headerFunctions({ file: GAME_H, pick: {}, allowSignatureChange: false }), (err: IsoswapError) => {
    assert.equal(err.code, 'ERR_HEADER');
    assert.match(err.message, /game\.h:\d+: .*no C compiler was found/);
    return true;
  });
});

test('the Rust example: its #[no_mangle] extern "C" functions are served and called; the hooks are not declared', { skip: !cargoAvailable() && 'cargo is not installed' }, async () => {
  const library = await buildRust(await readFile(RUST_LIB, 'utf8'), 'header_game');
  assert.deepEqual(await headerFunctions({ file: RUST_LIB, pick: {}, allowSignatureChange: false }), { do_tick: 'int32_t do_tick(int32_t)' });
  const rust = await tempFile('lib.rs', `use std::os::raw::c_char;
type Score = i32;
#[no_mangle]
pub unsafe extern "C" fn name(_game: *mut u8, out: *mut *const c_char, scale: core::ffi::c_double) -> Score { 0 }
#[unsafe(no_mangle)]
pub extern "C" fn ready(flag: bool, speed: f32, n: usize) -> u64 { 0 }
mod inner {
    #[no_mangle]
    pub extern "C" fn on_tick(cb: extern "C" fn(i32)) {}
}
fn private_helper(x: &str) {}
`);
  const table = headerFunctions({ file: rust, pick: { name: 'name', ready: 'ready' }, allowSignatureChange: false });
  assert.deepEqual(await table, {
    name: 'int32_t name(uint8_t *, const char **, double)',
    ready: 'uint64_t ready(bool, float, size_t)',
  });
  await assert.rejects(headerFunctions({ file: rust, pick: {}, allowSignatureChange: false }), { code: 'ERR_HEADER', message: /lib\.rs:9: on_tick: parameter cb: .* is a callback/ });
  const host = await createIsolatedHost({ library, header: RUST_LIB });
  try {
    assert.deepEqual(Object.keys(host.fns), ['do_tick']);
    const first = await host.fns.do_tick!(1);
    assert.equal(await host.fns.do_tick!(1), first + 1); // SPEED 1: the score grows by 1 a tick
  } finally {
    await host.close();
  }
});
