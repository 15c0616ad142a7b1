import elfy, { type ElfProgram, type ElfSection } from 'elfy';
import { IsoswapError } from '../errors.js';
import type { SectionRef } from '../wire/protocol.js';

/** The section whose bytes isoswap carries from one version to the next (native/include/isoswap.h). */
export const STATE_SECTION = 'isoswap_state';

/**
 * Where the `isoswap_state` section sits in a shared library (its address relative to the
 * load base, and its size), from the file's section headers; null without one. GNU ld
 * does not define __start_/__stop_ symbols for a custom section of a shared library, so
 * the headers are the only portable source; the worker adds its load base. A section the
 * loader does not map writable in full (read-only, not allocated, past its segment) is
 * ERR_STATE_SECTION: the hand-over would write there, a segfault in thread isolation.
 *
 * @example
 * findStateSection(readFileSync('libgame.so'), 'libgame.so'); // { vaddr: 16400, size: 8 }
 */
export function findStateSection(bytes: Buffer, file: string): SectionRef | null {
  if (process.platform !== 'linux') return null;
  const parser = new elfy.Parser();
  let found: { section: ElfSection; programs: ElfProgram[] } | null = null;
  try {
    const header = parser.parseHeader(bytes);
    const sections = parser.parseSections(bytes, header);
    const names = sections[header.shstrndx];
    if (names === undefined) return null;
    const section = sections.find((s) => parser.resolveStr(names.data, s.name as number) === STATE_SECTION);
    if (section === undefined || section.size === 0) return null;
    found = { section, programs: parser.parsePrograms(bytes, header) };
  } catch {
    // a library without section headers (stripped that far) has no state section
  }
  if (found === null) return null;
  const { section, programs } = found;
  const start = Number(section.addr);
  const size = Number(section.size);
  const refuse = (why: string): IsoswapError => new IsoswapError('ERR_STATE_SECTION',
    `${file}: its ${STATE_SECTION} section (${size} bytes at ${start}) ${why}; declare its globals with ISOSWAP_STATE (native/include/isoswap.h), never const`,
    { file, section: STATE_SECTION, bytes: size });
  if (section.flags?.alloc !== true) throw refuse('is not loaded (no SHF_ALLOC)');
  if (section.flags.write !== true) throw refuse('is read-only');
  const segment = programs.find((p) => p.type === 'load' && start >= p.vaddr && start < p.vaddr + p.memsz);
  if (segment === undefined) throw refuse('lies in no PT_LOAD segment');
  if (segment.flags?.w !== true) throw refuse('lies in a read-only segment');
  if (start + size > segment.vaddr + segment.memsz) throw refuse(`runs past its segment's mapping (${segment.vaddr + segment.memsz - start} bytes)`);
  return { vaddr: start, size };
}
