import elfy from 'elfy';
import { IsoswapError } from '../errors.js';
import { platform } from '../platform/platform.js';
import { readDynamic } from './elf-dynamic.js';

const DF_1_NODELETE = 0x8;
const STB_GNU_UNIQUE = 10;
/** Unique symbols named in a message: the first few say enough. */
const NAMED_SYMBOLS = 3;

/** Why the dynamic loader will never unmap a build: `-z nodelete`, or unique symbols. */
export interface PinnedReason {
  nodelete: boolean;
  /** Names of its STB_GNU_UNIQUE symbols (C++ inline statics built with -fgnu-unique). */
  unique: string[];
}

/**
 * Whether `dlclose` can ever unmap the build in `bytes`: glibc never unloads an object
 * marked NODELETE (DT_FLAGS_1 & DF_1_NODELETE, linked with `-z nodelete`, as recent
 * napi-rs builds are), nor one that defines an STB_GNU_UNIQUE symbol. In thread isolation
 * each version of such a build stays mapped (its threads, its heap) until the process
 * exits. Null when neither is found; on Windows (not ELF) always null. The unique symbols
 * are read from the section headers' `.dynsym`: a build stripped of its section headers
 * is judged by its NODELETE flag only.
 */
export function pinnedReason(bytes: Buffer): PinnedReason | null {
  if (platform().name !== 'linux') return null;
  const nodelete = (readDynamic(bytes).flags1 & DF_1_NODELETE) !== 0;
  const unique = uniqueSymbols(bytes);
  return nodelete || unique.length > 0 ? { nodelete, unique } : null;
}

/** The names of the STB_GNU_UNIQUE symbols `.dynsym` defines. */
function uniqueSymbols(bytes: Buffer): string[] {
  try {
    const parser = new elfy.Parser();
    const header = parser.parseHeader(bytes);
    const sections = parser.parseSections(bytes, header);
    const dynsym = sections.find((s) => s.type === 'dynsym');
    if (dynsym === undefined) return [];
    const names = dynsym.link === undefined ? undefined : sections[dynsym.link]?.data;
    const wide = header.class === '64';
    const size = wide ? 24 : 16;
    const infoAt = wide ? 4 : 12;
    const little = header.endian === 'lsb';
    const found: string[] = [];
    for (let at = 0; at + size <= dynsym.data.length; at += size) {
      const info = dynsym.data[at + infoAt]!;
      if (info >> 4 !== STB_GNU_UNIQUE) continue;
      const nameAt = little ? dynsym.data.readUInt32LE(at) : dynsym.data.readUInt32BE(at);
      found.push(names === undefined ? `#${at / size}` : parser.resolveStr(names, nameAt));
    }
    return found;
  } catch {
    return []; // headers elfy cannot read: the NODELETE flag still counts
  }
}

/**
 * ERR_PINNED_LIBRARY for version `version` of `file`: what pins it and what to do.
 */
export function pinnedError(reason: PinnedReason, file: string, version: number, outcome: 'warn' | 'refused'): IsoswapError {
  const why = [
    ...(reason.nodelete ? ['it is marked NODELETE (linked with -z nodelete)'] : []),
    ...(reason.unique.length > 0 ? [`it defines STB_GNU_UNIQUE symbols (${reason.unique.slice(0, NAMED_SYMBOLS).join(', ')}${reason.unique.length > NAMED_SYMBOLS ? ', …' : ''})`] : []),
  ].join(' and ');
  const then = outcome === 'refused'
    ? `refused (onPinned: 'refuse')${version > 1 ? '; the current version serves on' : ''}`
    : 'each version stays mapped (its code, its threads, its heap) until the process exits';
  return new IsoswapError('ERR_PINNED_LIBRARY',
    `version ${version} of ${file}: ${why}, so thread isolation can never unmap it: ${then}. ` +
    'onPinned: \'process\' serves such builds from a child process (docs/addons.md)',
    { file, version, nodelete: reason.nodelete, unique: reason.unique.slice(0, NAMED_SYMBOLS), outcome });
}
