// C functions that make payloads of a given size, and what they make, for the payload tests.

/** `text(n)`: n letters a..z repeated; `fill_pattern(p, n)`: byte i is (i * 31 + 7) & 255. */
export const PAYLOAD_SOURCE = `#include <stdint.h>
#include <stdlib.h>
static char *text_buffer;
const char *text(int32_t n) {
  text_buffer = realloc(text_buffer, (size_t)n + 1);
  for (int32_t i = 0; i < n; i++) text_buffer[i] = (char)('a' + i % 26);
  text_buffer[n] = 0;
  return text_buffer;
}
static void fill_pattern(uint8_t *p, int32_t n) { for (int32_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + 7); }
`;

/** What `text(n)` returns. */
export const textOf = (n: number): string => 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(n / 26)).slice(0, n);

/** What `fill_pattern` writes into n bytes. */
export function patternOf(n: number): Buffer {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + 7) & 255;
  return bytes;
}
