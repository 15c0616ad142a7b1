// elfy ships no types; this is the part of its parser isoswap uses.
declare module 'elfy' {
  export interface ElfProgram { type: string; offset: number; filesz: number; vaddr: number; memsz: number; flags?: Partial<Record<'r' | 'w' | 'x', true>> }
  export interface ElfHeader {
    class: string;
    endian: string;
    type: string;
    machine: string;
    phnum: number;
    shoff: number;
    shnum: number;
    shentsize: number;
    shstrndx: number;
  }
  export interface ElfSection { name: number | string; type: string | number; addr: number; size: number; data: Buffer; link?: number; flags?: Partial<Record<'write' | 'alloc' | 'execinstr', true>> }
  export class Parser {
    parseHeader(buf: Uint8Array): ElfHeader;
    parsePrograms(buf: Uint8Array, header: ElfHeader): ElfProgram[];
    parseSections(buf: Uint8Array, header: ElfHeader): ElfSection[];
    resolveStr(strtab: Buffer, offset: number): string;
  }
  const elfy: { Parser: typeof Parser };
  export default elfy;
}
