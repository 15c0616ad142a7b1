// Compile-only checks (npm test compiles them first; nothing here runs): the module
// `isoswap types` writes for test/fixtures/header/game.h (header-cli.test.ts checks that the
// committed file is what the command writes) gives every function the argument and result
// types of the prototype a person would write by hand (in koffi's spelling: game.h's
// opaque `game_t *` is a `void *`, its `score_t` an `int32_t`). A regression fails the build.
import type { PrototypeArguments, PrototypeResult } from '../../src/index.js';
import type { functions } from '../fixtures/header/game-functions.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;
type Generated = typeof functions;
/** Same arguments and same result as the hand-written prototype P. */
type Same<K extends keyof Generated, P extends string> =
  Equal<[PrototypeArguments<Generated[K]>, PrototypeResult<Generated[K]>], [PrototypeArguments<P>, PrototypeResult<P>]>;

export type HeaderFunctions = [
  Expect<Same<'neg_i8', 'int8_t neg_i8(int8_t x)'>>,
  Expect<Same<'add_i16', 'int16_t add_i16(int16_t a, int16_t b)'>>,
  Expect<Same<'do_tick', 'int32_t do_tick(int32_t dt)'>>,
  Expect<Same<'mul_i64', 'int64_t mul_i64(int64_t a, int64_t b)'>>,
  Expect<Same<'inc_u8', 'uint8_t inc_u8(uint8_t x)'>>,
  Expect<Same<'inc_u16', 'uint16_t inc_u16(uint16_t x)'>>,
  Expect<Same<'inc_u32', 'uint32_t inc_u32(uint32_t x)'>>,
  Expect<Same<'shl_u64', 'uint64_t shl_u64(uint64_t x, uint32_t by)'>>,
  Expect<Same<'half', 'float half(float x)'>>,
  Expect<Same<'mean', 'double mean(double a, double b)'>>,
  Expect<Same<'is_even', 'bool is_even(int32_t x)'>>,
  Expect<Same<'greet', 'const char *greet(void)'>>,
  Expect<Same<'name_length', 'size_t name_length(const char *name)'>>,
  Expect<Same<'sum', 'int32_t sum(const int32_t *values, size_t count)'>>,
  Expect<Same<'new_game', 'void *new_game(int32_t start)'>>,
  Expect<Same<'game_score', 'int32_t game_score(void *game)'>>,
  Expect<Same<'game_handle', 'void *game_handle(void *game)'>>,
  Expect<Same<'free_game', 'void free_game(void *game)'>>,
  Expect<Same<'reset', 'void reset(void)'>>,
  // and what some of those are
  Expect<Equal<PrototypeResult<Generated['do_tick']>, number>>,
  Expect<Equal<PrototypeArguments<Generated['do_tick']>, [number]>>,
  Expect<Equal<PrototypeResult<Generated['mul_i64']>, number | bigint>>,
  Expect<Equal<PrototypeResult<Generated['is_even']>, boolean>>,
  Expect<Equal<PrototypeResult<Generated['greet']>, string | null>>,
  Expect<Equal<PrototypeResult<Generated['reset']>, undefined>>,
];
