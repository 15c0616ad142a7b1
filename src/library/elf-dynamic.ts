import elfy, { type ElfHeader, type ElfProgram } from 'elfy';

/** What the dynamic loader reads from a library's PT_DYNAMIC segment. */
export interface ElfDynamic {
  soname: string | undefined;
  /** DT_NEEDED: the libraries it needs, by name. */
  needed: string[];
  /** DT_RPATH and DT_RUNPATH, split on ':' ($ORIGIN not expanded). */
  rpath: string[];
  runpath: string[];
  /** DT_FLAGS_1 (DF_1_NODELETE is 0x8); 0 without one. */
  flags1: number;
}

const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_FLAGS_1 = 0x6ffffffb;

/**
 * Reads DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH and DT_FLAGS_1. elfy parses the headers; the
 * dynamic entries and their string table are read here (elfy has no parser for them).
 * Anything it cannot read comes back empty: this only guides dependency lookup, the
 * loader has the last word.
 */
export function readDynamic(bytes: Buffer): ElfDynamic {
  const empty: ElfDynamic = { soname: undefined, needed: [], rpath: [], runpath: [], flags1: 0 };
  let header: ElfHeader;
  let programs: ElfProgram[];
  try {
    const parser = new elfy.Parser();
    header = parser.parseHeader(bytes);
    programs = parser.parsePrograms(bytes, header);
  } catch {
    return empty;
  }
  const dynamic = programs.find((p) => p.type === 'dynamic');
  if (dynamic === undefined) return empty;
  const wide = header.class === '64';
  const little = header.endian === 'lsb';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (at: number): number => wide ? Number(view.getBigUint64(at, little)) : view.getUint32(at, little);
  const size = wide ? 16 : 8;
  const entries: Array<[tag: number, value: number]> = [];
  for (let at = dynamic.offset; at + size <= Math.min(bytes.length, dynamic.offset + dynamic.filesz); at += size) {
    const tag = word(at);
    if (tag === 0) break; // DT_NULL
    entries.push([tag, word(at + size / 2)]);
  }
  const flags1 = entries.find(([tag]) => tag === DT_FLAGS_1)?.[1] ?? 0;
  const strtab = fileOffset(programs, entries.find(([tag]) => tag === DT_STRTAB)?.[1]);
  if (strtab === undefined) return { ...empty, flags1 };
  const string = (offset: number): string => {
    const start = strtab + offset;
    const end = bytes.indexOf(0, start);
    return start < bytes.length && end >= 0 ? bytes.toString('utf8', start, end) : '';
  };
  const all = (wanted: number): string[] => entries.filter(([tag]) => tag === wanted).map(([, value]) => string(value));
  const paths = (wanted: number): string[] => all(wanted).flatMap((s) => s.split(':')).filter((s) => s !== '');
  return { soname: all(DT_SONAME)[0], needed: all(DT_NEEDED), rpath: paths(DT_RPATH), runpath: paths(DT_RUNPATH), flags1 };
}

/** The file offset of virtual address `vaddr`, through the PT_LOAD segment that maps it. */
function fileOffset(programs: ElfProgram[], vaddr: number | undefined): number | undefined {
  if (vaddr === undefined) return undefined;
  const load = programs.find((p) => p.type === 'load' && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz);
  return load === undefined ? undefined : vaddr - load.vaddr + load.offset;
}
