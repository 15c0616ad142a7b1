import { closeSync, ftruncateSync, openSync } from 'node:fs';
import koffi from 'koffi';
import { IsoswapError } from '../errors.js';
import { libcFunctions } from '../library/libc.js';

/** A file mapped MAP_SHARED: every process that maps it sees the same bytes. */
export interface MappedFile {
  /** The address, as koffi passes it for a `void *` parameter. */
  readonly pointer: unknown;
  readonly bytes: number;
  /** The same memory as an ArrayBuffer (koffi.view: no copy). */
  view(): ArrayBuffer;
  /** munmap: any view over it must never be touched again (it would segfault). */
  unmap(): void;
}

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED = 0x01;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/**
 * Maps `bytes` of the file at `path` shared, read-write. With `create`, the file must not
 * exist yet: it is made 0600 and sized (zero-filled).
 *
 * @example
 * const block = mapFile('/dev/shm/isoswap-1-ab.state', 4096, true);
 * new Uint8Array(block.view())[0] = 7; // a child that maps the same path sees 7
 */
export function mapFile(path: string, bytes: number, create: boolean): MappedFile {
  const { mmap, munmap } = libcFunctions();
  const fd = openSync(path, create ? 'wx+' : 'r+', 0o600);
  let pointer: unknown;
  try {
    if (create) ftruncateSync(fd, bytes);
    pointer = mmap(null, bytes, PROT_READ_WRITE, MAP_SHARED, fd, 0);
  } finally {
    closeSync(fd); // the mapping keeps the file's pages; the descriptor is not needed
  }
  if (pointer === null || koffi.address(pointer) === MAP_FAILED) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', `cannot map the state block ${path} (${bytes} bytes): errno ${koffi.errno()}`, { file: path });
  }
  let mapped = true;
  return {
    pointer,
    bytes,
    view: () => koffi.view(pointer, bytes),
    unmap() {
      if (mapped) munmap(pointer, bytes);
      mapped = false;
    },
  };
}
