// A C library with one function per type the ring carries, and the calls that exercise
// each: shared by the ring tests (every path must give the same value).
export const RING_TYPES_SOURCE = `#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <ctype.h>
#include <stdio.h>
static char out[100000];
const char *shout(const char *s) { size_t i = 0; for (; s[i] && i < sizeof out - 1; i++) out[i] = (char)toupper((unsigned char)s[i]); out[i] = 0; return out; }
const char *repeat(const char *s, int32_t n) { size_t len = strlen(s), at = 0; for (int32_t i = 0; i < n && at + len < sizeof out; i++, at += len) memcpy(out + at, s, len); out[at] = 0; return out; }
const char *maybe(int32_t x) { return x ? "yes" : 0; }
int32_t is_null_str(const char *s) { return s == 0; }
size_t ulen(const char *s) { return strlen(s); }
bool both(bool a, bool b) { return a && b; }
float halff(float x) { return x / 2; }
double mixd(double a, float b, int8_t c, uint16_t d) { return a * 2 + b + c + d; }
int64_t add64(int64_t a, int64_t b) { return a + b; }
uint64_t id_u64(uint64_t x) { return x; }
uint64_t u64max(void) { return UINT64_MAX; }
int32_t sum_u8(const uint8_t *p, int32_t n) { int32_t s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; return s; }
double sum_f64(const double *p, int32_t n) { double s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; return s; }
int32_t sum_i32(const int32_t *p, int32_t n) { int32_t s = 0; for (int32_t i = 0; i < n; i++) s += p[i]; return s; }
void fill_u8(uint8_t *p, int32_t n, int32_t v) { for (int32_t i = 0; i < n; i++) p[i] = (uint8_t)(v + i); }
void scale(float *p, int32_t n, float k) { for (int32_t i = 0; i < n; i++) p[i] *= k; }
int32_t is_null_ptr(const void *p) { return p == 0; }
const char *describe(const char *name, int64_t n, bool flag, double x) { static char b[256]; snprintf(b, sizeof b, "%s:%lld:%d:%g", name, (long long)n, flag, x); return b; }
`;

export const RING_TYPES = {
  shout: 'const char *shout(const char *s)',
  repeat: 'const char *repeat(const char *s, int32_t n)',
  maybe: 'const char *maybe(int32_t x)',
  is_null_str: 'int32_t is_null_str(const char *s)',
  ulen: 'size_t ulen(const char *s)',
  both: 'bool both(bool a, bool b)',
  halff: 'float halff(float x)',
  mixd: 'double mixd(double a, float b, int8_t c, uint16_t d)',
  add64: 'int64_t add64(int64_t a, int64_t b)',
  id_u64: 'uint64_t id_u64(uint64_t x)',
  u64max: 'uint64_t u64max(void)',
  sum_u8: 'int32_t sum_u8(const uint8_t *p, int32_t n)',
  sum_f64: 'double sum_f64(const double *p, int32_t n)',
  sum_i32: 'int32_t sum_i32(const int32_t *p, int32_t n)',
  fill_u8: 'void fill_u8(_Out_ uint8_t *p, int32_t n, int32_t v)',
  scale: 'void scale(_Inout_ float *p, int32_t n, float k)',
  is_null_ptr: 'int32_t is_null_ptr(const void *p)',
  describe: 'const char *describe(const char *name, int64_t n, bool flag, double x)',
};

/** Each function with arguments that must give the same value on every path; `state` is a
 *  SharedArrayBuffer the worker knows as the state block. */
export function ringTypeCases(state: SharedArrayBuffer): Array<[keyof typeof RING_TYPES, unknown[]]> {
  new Int32Array(state, 0, 4).set([1, 2, 3, 4]);
  const other = new SharedArrayBuffer(32);
  new Uint8Array(other).set([5, 6, 7, 8], 8);
  return [
    ['shout', ['hello']], ['shout', ['']], ['shout', ['héllo ☃ 𝄞 wörld']], ['shout', ['a\0b']],
    ['repeat', ['ab', 3]], ['repeat', ['long-', 200]], ['repeat', ['ü', 20000]],
    ['maybe', [1]], ['maybe', [0]], ['is_null_str', [null]], ['is_null_str', ['x']], ['ulen', ['☃☃']],
    ['both', [true, true]], ['both', [true, false]], ['halff', [0.1]], ['mixd', [1.5, 0.1, -3, 65535]],
    ['add64', [1, 2]], ['add64', [2 ** 53, 2]], ['add64', [2n ** 62n, 2n ** 62n - 1n]], ['add64', [-(2n ** 63n), 0]],
    ['id_u64', [2n ** 64n - 1n]], ['id_u64', [7]], ['u64max', []],
    ['sum_u8', [Buffer.from([1, 2, 3]), 3]], ['sum_u8', [new Uint8Array([250, 250]), 2]],
    ['sum_u8', [new Uint8Array(other, 8, 4), 4]], ['sum_f64', [new Float64Array([0.5, 0.25]), 2]],
    ['sum_i32', [new Int32Array(state, 4, 3), 3]], ['sum_i32', [new Int32Array([7, 8]), 2]],
    ['is_null_ptr', [null]], ['is_null_ptr', [new Uint8Array(1)]],
    ['describe', ['n', 2n ** 60n, true, 0.5]], ['describe', ['ü', -3, false, 1e300]],
  ];
}

/** The same view's bytes in memory that is not shared: what IPC can carry. */
export function unshared(arg: unknown): unknown {
  if (!ArrayBuffer.isView(arg) || !(arg.buffer instanceof SharedArrayBuffer)) return arg;
  const Kind = arg.constructor as new (source: ArrayLike<number>) => ArrayBufferView;
  return new Kind(arg as unknown as ArrayLike<number>);
}
