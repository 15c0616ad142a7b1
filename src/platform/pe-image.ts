import type { SectionRef } from '../wire/protocol.js';
import { notALibrary } from './library-error.js';

/** IMAGE_FILE_HEADER.Machine of the process architectures Node runs on Windows. */
const MACHINE_OF_ARCH: Record<string, number> = { x64: 0x8664, arm64: 0xaa64, ia32: 0x14c };
const MACHINE_NAMES: Record<number, string> = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'x86 (i386)', 0x1c4: 'arm' };
const IMAGE_FILE_DLL = 0x2000;
const SECTION_HEADER_BYTES = 40;
const SYMBOL_BYTES = 18;

/** One section header of a PE image, as the loader reads it. */
export interface PeSection {
  /** The full name: a `/N` name resolved through the COFF string table when there is one. */
  name: string;
  virtualAddress: number;
  virtualSize: number;
  rawOffset: number;
  rawSize: number;
}

/** The parts of a PE image the completeness check and the state section need. */
export interface PeImage {
  machine: number;
  characteristics: number;
  /** SizeOfHeaders: what the loader maps from the start of the file. */
  headerBytes: number;
  /** Where the COFF symbol table and the string table after it end (0 without them). */
  symbolsEnd: number;
  sections: PeSection[];
}

/**
 * Reads the headers and section table of a PE image; null when the bytes are no PE image
 * or its headers run past the end (a linker mid-write). The string table is read only for
 * `/N` names (mingw keeps long section names there unless the image is stripped).
 */
export function readPe(bytes: Uint8Array): PeImage | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inside = (at: number, length: number): boolean => at >= 0 && at + length <= bytes.length;
  if (!inside(0, 0x40) || view.getUint16(0, true) !== 0x5a4d) return null; // 'MZ'
  const pe = view.getUint32(0x3c, true);
  if (!inside(pe, 24) || view.getUint32(pe, true) !== 0x00004550) return null; // 'PE\0\0'
  const machine = view.getUint16(pe + 4, true);
  const count = view.getUint16(pe + 6, true);
  const symbols = view.getUint32(pe + 12, true);
  const symbolCount = view.getUint32(pe + 16, true);
  const optionalBytes = view.getUint16(pe + 20, true);
  const characteristics = view.getUint16(pe + 22, true);
  const table = pe + 24 + optionalBytes;
  if (optionalBytes < 64 || !inside(table, count * SECTION_HEADER_BYTES)) return null;
  const headerBytes = view.getUint32(pe + 24 + 60, true);
  const strings = symbols === 0 ? -1 : symbols + symbolCount * SYMBOL_BYTES;
  // The string table starts with its own size (those 4 bytes included).
  const symbolsEnd = strings < 0 ? 0 : strings + (inside(strings, 4) ? Math.max(4, view.getUint32(strings, true)) : 4);
  const sections: PeSection[] = [];
  for (let i = 0; i < count; i++) {
    const at = table + i * SECTION_HEADER_BYTES;
    let name = ascii(bytes, at, 8);
    if (/^\/\d+$/.test(name) && strings >= 0) name = ascii(bytes, strings + Number(name.slice(1)), 256);
    sections.push({
      name,
      virtualSize: view.getUint32(at + 8, true),
      virtualAddress: view.getUint32(at + 12, true),
      rawSize: view.getUint32(at + 16, true),
      rawOffset: view.getUint32(at + 20, true),
    });
  }
  return { machine, characteristics, headerBytes, symbolsEnd, sections };
}

/**
 * Throws ERR_NOT_A_LIBRARY unless `bytes` hold a whole DLL this process could load: PE
 * headers, the process's machine, the DLL flag, and every section's raw data (and the
 * symbol table, when there is one) inside the file. Windows maps sections from the file: a build cut short must never reach
 * LoadLibrary.
 */
export function assertCompletePe(bytes: Uint8Array, file: string): void {
  if (bytes.length === 0) throw notALibrary(file, 'the file is empty');
  const image = readPe(bytes);
  if (image === null) throw notALibrary(file, 'it is not a PE image, or its headers run past the end of the file');
  const wanted = MACHINE_OF_ARCH[process.arch];
  if (wanted !== undefined && image.machine !== wanted) {
    const built = MACHINE_NAMES[image.machine] ?? `machine 0x${image.machine.toString(16)}`;
    throw notALibrary(file, `it is built for ${built}, this process is ${process.arch}`);
  }
  if ((image.characteristics & IMAGE_FILE_DLL) === 0) throw notALibrary(file, 'it is an executable, not a DLL');
  if (image.sections.length === 0) throw notALibrary(file, 'it has no section');
  if (image.headerBytes > bytes.length) throw notALibrary(file, `it is incomplete: its headers end at byte ${image.headerBytes}, the file has ${bytes.length}`);
  for (const s of image.sections) {
    if (s.rawSize > 0 && s.rawOffset + s.rawSize > bytes.length) {
      throw notALibrary(file, `it is incomplete: section ${s.name} ends at byte ${s.rawOffset + s.rawSize}, the file has ${bytes.length}`);
    }
  }
  // A linker writes the symbol and string tables (unstripped mingw builds) last.
  if (image.symbolsEnd > bytes.length) throw notALibrary(file, `it is incomplete: its symbol table ends at byte ${image.symbolsEnd}, the file has ${bytes.length}`);
}

/**
 * Where section `name` sits once loaded (its address relative to the module's base, and
 * its size); null without one. A stripped image keeps only 8 bytes of a long name, so
 * `isoswap_state` is also found as `isoswap_`.
 */
export function findPeSection(bytes: Uint8Array, name: string): SectionRef | null {
  const image = readPe(bytes);
  const section = image?.sections.find((s) => s.name === name || s.name === name.slice(0, 8));
  if (section === undefined) return null;
  const size = section.virtualSize || section.rawSize;
  return size > 0 ? { vaddr: section.virtualAddress, size } : null;
}

/** A NUL-padded ASCII name at `at`, at most `max` bytes. */
function ascii(bytes: Uint8Array, at: number, max: number): string {
  if (at >= bytes.length) return '';
  let end = at;
  while (end < Math.min(bytes.length, at + max) && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.max(0, end - at)).toString('latin1');
}

