import elfy, { type ElfHeader, type ElfProgram, type ElfSection } from 'elfy';
import { IsoswapError } from '../errors.js';
import type { SectionRef } from '../wire/protocol.js';
import { notALibrary } from './library-error.js';

// ELF e_machine names (as elfy spells them) for the process architectures Node runs on.
const MACHINE_OF_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', ia32: '386', arm: 'arm', riscv64: 'riscv' };

/**
 * Throws ERR_NOT_A_LIBRARY unless `bytes` hold a whole ELF shared object that this
 * process could `dlopen`. glibc maps PT_LOAD segments straight from the file: a
 * half-written library whose headers promise bytes past EOF kills the whole process
 * with SIGBUS on first touch, worker thread or not.
 */
export function assertCompleteElf(bytes: Uint8Array, file: string): void {
  if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw notALibrary(file, 'it is not an ELF file');
  }
  // Only the header and program headers are parsed: elfy's whole-file parse throws on a
  // valid library without section headers (e_shnum = 0), which dlopen loads fine.
  const parser = new elfy.Parser();
  let header: ElfHeader;
  let programs: ElfProgram[];
  try {
    header = parser.parseHeader(bytes);
    programs = parser.parsePrograms(bytes, header);
  } catch {
    throw notALibrary(file, 'it is incomplete (ELF headers past the end of the file)');
  }
  if (header.type !== 'dyn') throw notALibrary(file, `its ELF type is '${header.type}', not a shared object`);
  const machine = MACHINE_OF_ARCH[process.arch];
  if (machine !== undefined && header.machine !== machine) {
    throw notALibrary(file, `it is built for ${header.machine}, this process is ${process.arch}`);
  }
  // A linker writes the section headers last: their absence means it has not finished.
  if (header.shnum > 0 && header.shoff + header.shnum * header.shentsize > bytes.length) {
    throw notALibrary(file, 'it is incomplete (section headers past the end of the file)');
  }
  const loads = programs.filter((p) => p.type === 'load');
  if (loads.length === 0) throw notALibrary(file, 'it has no PT_LOAD segment');
  for (const seg of loads) {
    if (seg.offset + seg.filesz > bytes.length) {
      throw notALibrary(file, `it is incomplete: a PT_LOAD segment ends at byte ${seg.offset + seg.filesz}, the file has ${bytes.length}`);
    }
  }
}

/**
 * Where section `name` sits in a shared library (its address relative to the load base,
 * and its size), from the file's section headers; null without one. GNU ld does not
 * define __start_/__stop_ symbols for a custom section of a shared library, so the
 * headers are the only portable source; the worker adds its load base.
 */
export function findElfSection(bytes: Buffer, name: string, file: string): SectionRef | null {
  const parser = new elfy.Parser();
  let found: { section: ElfSection; programs: ElfProgram[] } | null = null;
  try {
    const header = parser.parseHeader(bytes);
    const sections = parser.parseSections(bytes, header);
    const names = sections[header.shstrndx];
    if (names === undefined) return null;
    const section = sections.find((s) => parser.resolveStr(names.data, s.name as number) === name);
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
    `${file}: its ${name} section (${size} bytes at ${start}) ${why}; declare its globals with ISOSWAP_STATE (native/include/isoswap.h), never const`,
    { file, section: name, bytes: size });
  if (section.flags?.alloc !== true) throw refuse('is not loaded (no SHF_ALLOC)');
  if (section.flags.write !== true) throw refuse('is read-only');
  const segment = programs.find((p) => p.type === 'load' && start >= p.vaddr && start < p.vaddr + p.memsz);
  if (segment === undefined) throw refuse('lies in no PT_LOAD segment');
  if (segment.flags?.w !== true) throw refuse('lies in a read-only segment');
  if (start + size > segment.vaddr + segment.memsz) throw refuse(`runs past its segment's mapping (${segment.vaddr + segment.memsz - start} bytes)`);
  return { vaddr: start, size };
}
