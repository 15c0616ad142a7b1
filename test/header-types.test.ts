// `isoswap types` output (test/fixtures/header/game-functions.ts, checked to be what the
// command writes by header-cli.test.ts) compiles and gives the types of the hand-written
// prototypes; these checks fail at build time (npm test builds first) if not.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createIsolatedHost, type PrototypeResult } from '../src/index.js';
import { functions } from './fixtures/header/game-functions.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Generated<K extends keyof typeof functions> = PrototypeResult<(typeof functions)[K]>;
const sameAsHandWritten: [
  Equal<Generated<'do_tick'>, PrototypeResult<'int32_t do_tick(int32_t)'>>,
  Equal<Generated<'neg_i8'>, PrototypeResult<'int8_t neg_i8(int8_t)'>>,
  Equal<Generated<'mul_i64'>, PrototypeResult<'int64_t mul_i64(int64_t, int64_t)'>>,
  Equal<Generated<'shl_u64'>, PrototypeResult<'uint64_t shl_u64(uint64_t, uint32_t)'>>,
  Equal<Generated<'half'>, PrototypeResult<'float half(float)'>>,
  Equal<Generated<'mean'>, PrototypeResult<'double mean(double, double)'>>,
  Equal<Generated<'is_even'>, PrototypeResult<'bool is_even(int32_t)'>>,
  Equal<Generated<'greet'>, PrototypeResult<'const char *greet(void)'>>,
  Equal<Generated<'new_game'>, PrototypeResult<'void *new_game(int32_t)'>>,
  Equal<Generated<'reset'>, PrototypeResult<'void reset(void)'>>,
  // and what those are
  Equal<Generated<'do_tick'>, number>,
  Equal<Generated<'mul_i64'>, number | bigint>,
  Equal<Generated<'is_even'>, boolean>,
  Equal<Generated<'greet'>, string | null>,
  Equal<Generated<'reset'>, undefined>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];

test('a host declared by header + the generated functions is typed like hand-written prototypes', async () => {
  assert.ok(sameAsHandWritten.every(Boolean));
  const header = fileURLToPath(new URL('../../test/fixtures/header/game.h', import.meta.url));
  const source = await readFile(new URL('../../test/fixtures/header/game.c', import.meta.url), 'utf8');
  const host = await createIsolatedHost({ library: await buildC(source, undefined, [`-I${dirname(header)}`]), header, functions });
  try {
    const score: number = await host.fns.do_tick(2);
    const hello: string | null = await host.call('greet');
    const even: boolean = host.callSync('is_even', 4);
    // @ts-expect-error do_tick gives a number, not a string
    const wrong: string = await host.fns.do_tick(0);
    assert.deepEqual([score, hello, even, wrong], [2, 'hello from game.h', true, 2]);
  } finally {
    await host.close();
  }
});
