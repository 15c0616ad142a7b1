// elfy ships no types; this is the part of its parse result isoswap reads.
declare module 'elfy' {
  interface ElfProgram { type: string; offset: number; filesz: number; vaddr: number; memsz: number }
  interface ElfFile {
    class: string;
    endian: string;
    type: string;
    machine: string;
    phnum: number;
    body: { programs: ElfProgram[] };
  }
  const elfy: { parse(buf: Uint8Array): ElfFile };
  export default elfy;
}
