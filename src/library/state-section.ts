import elfy from 'elfy';
import type { SectionRef } from '../wire/protocol.js';

/** The section whose bytes isoswap carries from one version to the next (native/include/isoswap.h). */
export const STATE_SECTION = 'isoswap_state';

/**
 * Where the `isoswap_state` section sits in a shared library (its address relative to the
 * load base, and its size), from the file's section headers; null without one. GNU ld
 * does not define __start_/__stop_ symbols for a custom section of a shared library, so
 * the headers are the only portable source; the worker adds its load base.
 *
 * @example
 * findStateSection(readFileSync('libgame.so')); // { vaddr: 16400, size: 8 }
 */
export function findStateSection(bytes: Buffer): SectionRef | null {
  if (process.platform !== 'linux') return null;
  const parser = new elfy.Parser();
  try {
    const header = parser.parseHeader(bytes);
    const sections = parser.parseSections(bytes, header);
    const names = sections[header.shstrndx];
    if (names === undefined) return null;
    for (const section of sections) {
      if (parser.resolveStr(names.data, section.name as number) !== STATE_SECTION) continue;
      return section.size > 0 ? { vaddr: Number(section.addr), size: Number(section.size) } : null;
    }
  } catch {
    // a library without section headers (stripped that far) has no state section
  }
  return null;
}
