// Compile-only checks (npm test compiles them first; nothing here runs): the argument and
// result types isoswap derives from prototype strings. A regression fails the build.
import type { PrototypeArguments, PrototypeName, PrototypeResult } from '../../src/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;

export type Results = [
  Expect<Equal<PrototypeResult<'int32_t do_tick(int32_t)'>, number>>,
  Expect<Equal<PrototypeResult<'double mean(double, double)'>, number>>,
  Expect<Equal<PrototypeResult<'float f(void)'>, number>>,
  Expect<Equal<PrototypeResult<'void reset(void)'>, undefined>>,
  Expect<Equal<PrototypeResult<'bool ready(void)'>, boolean>>,
  Expect<Equal<PrototypeResult<'_Bool ready(void)'>, boolean>>,
  Expect<Equal<PrototypeResult<'int64_t big(void)'>, number | bigint>>,
  Expect<Equal<PrototypeResult<'unsigned long long big(void)'>, number | bigint>>,
  Expect<Equal<PrototypeResult<'size_t len(const char *s)'>, number | bigint>>,
  Expect<Equal<PrototypeResult<'const char *name(void)'>, string | null>>,
  Expect<Equal<PrototypeResult<'const char* name(void)'>, string | null>>,
  Expect<Equal<PrototypeResult<'char *dup(const char *)'>, string | null>>,
  Expect<Equal<PrototypeResult<'char **list(void)'>, unknown>>,
  Expect<Equal<PrototypeResult<'void *handle(void)'>, unknown>>,
  Expect<Equal<PrototypeResult<'unsigned int u(void)'>, number>>,
  Expect<Equal<PrototypeResult<'uint8_t u8(uint8_t)'>, number>>,
  Expect<Equal<PrototypeResult<'struct point p(void)'>, unknown>>,
  // The name is not the type: avoid_* holds "void", hash64 holds "64", char_count "char".
  Expect<Equal<PrototypeResult<'int32_t avoid_wall(int32_t)'>, number>>,
  Expect<Equal<PrototypeResult<'int32_t hash64(int32_t)'>, number>>,
  Expect<Equal<PrototypeResult<'int char_count(const char *s)'>, number>>,
  Expect<Equal<PrototypeResult<'bool  is_void_ptr ( void * p )'>, boolean>>,
  Expect<Equal<PrototypeResult<string>, any>>,
];

export type Arguments = [
  Expect<Equal<PrototypeArguments<'int32_t do_tick(int32_t)'>, [number]>>,
  Expect<Equal<PrototypeArguments<'int32_t add(int32_t a, int32_t b)'>, [number, number]>>,
  Expect<Equal<PrototypeArguments<'void reset(void)'>, []>>,
  Expect<Equal<PrototypeArguments<'void reset()'>, []>>,
  Expect<Equal<PrototypeArguments<'int char_count(const char *s)'>, [string | null]>>,
  Expect<Equal<PrototypeArguments<'int n(const char*)'>, [string | null]>>,
  Expect<Equal<PrototypeArguments<'void fill(uint8_t *buf, size_t n)'>, [ArrayBufferView | null, number | bigint]>>,
  Expect<Equal<PrototypeArguments<'int32_t isoswap_load(void *state, uint32_t bytes)'>, [ArrayBufferView | null, number]>>,
  Expect<Equal<PrototypeArguments<'double mix(float a, double b, bool c)'>, [number, number, boolean]>>,
  Expect<Equal<PrototypeArguments<'int64_t h(int64_t x, unsigned long y)'>, [number | bigint, number | bigint]>>,
  Expect<Equal<PrototypeArguments<'unsigned int u(unsigned int, unsigned)'>, [number, number]>>,
  Expect<Equal<PrototypeArguments<'int printf(const char *fmt, ...)'>, [string | null, ...unknown[]]>>,
  Expect<Equal<PrototypeArguments<'int pipe2(_Out_ int *fds, int flags)'>, [ArrayBufferView | null, number]>>,
  Expect<Equal<PrototypeArguments<'  int32_t   spaced (  int32_t   x ,int32_t y  )  '>, [number, number]>>,
  Expect<Equal<PrototypeArguments<string>, any[]>>,
];

export type Names = [
  Expect<Equal<PrototypeName<'int32_t do_tick(int32_t)'>, 'do_tick'>>,
  Expect<Equal<PrototypeName<'const char *name(void)'>, 'name'>>,
  Expect<Equal<PrototypeName<'void *  handle (void)'>, 'handle'>>,
];
