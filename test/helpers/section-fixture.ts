// A C library whose globals live in the isoswap_state section (native/include/isoswap.h),
// built by the tests of issue 12 (globals that survive swaps, the guest told what happened).
import { fileURLToPath } from 'node:url';
import { buildC } from './native.js';

/** -I for native/include, from dist/test/helpers. */
export const INCLUDE = fileURLToPath(new URL('../../../native/include', import.meta.url));

export const SECTION_FUNCTIONS = {
  frame: 'int32_t frame(void)',
  second: 'int32_t second(void)',
  build: 'int32_t build(void)',
  plain: 'int32_t plain(void)',
  info_version: 'int32_t info_version(void)',
  info_reason: 'int32_t info_reason(void)',
  info_failure: 'int32_t info_failure(void)',
  info_previous: 'int32_t info_previous(void)',
  extra: 'int32_t extra(void)',
  crash: 'void crash(void)',
  slow_frame: 'int32_t slow_frame(int32_t)',
  tick: 'int32_t tick(void)',
  ticks: 'int32_t ticks(void)',
} as const;

export interface SectionFixture {
  /** build() returns it. */
  k: number;
  /** false: the same globals as plain statics (no section at all). */
  section?: boolean;
  /** The globals as one struct (the layout an appended field needs: the compiler may
   *  order separate statics as it likes). */
  asStruct?: boolean;
  /** A third field appended to the struct: the section grows by 4 bytes. */
  extraField?: boolean;
  /** Declares ISOSWAP_STATE_PREFIX_OK. */
  prefixOk?: boolean;
  /** isoswap_load_ex refuses with it (non-zero). */
  refuse?: number;
}

/**
 * frame() and second() count in two section globals (+1 and +2 per frame), plain() in an
 * ordinary static (restarts at every load); isoswap_load_ex keeps what it was told.
 */
export function sectionSource({ k, section = true, asStruct = false, extraField = false, prefixOk = false, refuse = 0 }: SectionFixture): string {
  const place = section ? 'ISOSWAP_STATE ' : '';
  const globals = asStruct
    ? `${place}static struct { int32_t frames; int32_t seconds;${extraField ? ' int32_t extras;' : ''} } g = { 0, 0${extraField ? ', 7' : ''} };
#define frames g.frames
#define seconds g.seconds
#define extras g.extras`
    : `${place}static int32_t frames = 0;
${place}static int32_t seconds = 0;`;
  return `#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include "isoswap.h"
${globals}
${prefixOk ? 'ISOSWAP_STATE_PREFIX_OK;' : ''}
${place}static int32_t tick_count = 0;
static int32_t plains = 0;
static isoswap_info told;
int32_t isoswap_load_ex(void *state, uint32_t bytes, const isoswap_info *info) {
  (void)state; (void)bytes;
  told = *info;
  return ${refuse};
}
int32_t frame(void) { plains++; seconds += 2; return ++frames; }
int32_t second(void) { return seconds; }
int32_t tick(void) { return ++tick_count; }
int32_t ticks(void) { return tick_count; }
int32_t slow_frame(int32_t us) { usleep(us); return frame(); }
int32_t build(void) { return ${k}; }
int32_t plain(void) { return plains; }
int32_t info_version(void) { return told.version; }
int32_t info_reason(void) { return told.reason; }
int32_t info_failure(void) { return told.failure; }
int32_t info_previous(void) { return told.previous; }
int32_t extra(void) { return ${extraField ? 'extras' : '-1'}; }
void crash(void) { raise(SIGSEGV); }
`;
}

/** Builds the fixture to `out` (renamed into place, as a linker does). */
export function buildSectionFixture(options: SectionFixture, out?: string): Promise<string> {
  return buildC(sectionSource(options), out, [`-I${INCLUDE}`]);
}
