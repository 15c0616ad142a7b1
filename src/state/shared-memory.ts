import { closeSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';
import { IsoswapError } from '../errors.js';
import { libcFunctions } from '../library/libc.js';

/** Memory mapped MAP_SHARED from a descriptor: every process that maps it sees the same bytes. */
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
const MFD_CLOEXEC = 0x1;

/** ENOSPC for 28: the name an errno number has. From node:util, which a worker has loaded
 *  already: node:os would cost every new worker an import for an error message. */
const errnoName = (n: number): string => {
  const name = n > 0 ? getSystemErrorName(-n) : '';
  return name.startsWith('E') ? name : `errno ${n}`;
};

/**
 * Makes anonymous shared memory of `bytes` (a memfd: no file anywhere, freed when the
 * last descriptor and mapping go) and reserves all of it now. An ftruncate'd file would
 * be sparse: on a full tmpfs the first write to a page that cannot be had is a SIGBUS
 * that kills the process. Throws ERR_STATE_ALLOC.
 */
export function createSharedMemory(bytes: number, name = 'isoswap-state'): number {
  const { memfdCreate, posixFallocate } = libcFunctions();
  // The name shows in /proc/<pid>/maps and fd links as /memfd:<name>.
  const fd = memfdCreate(name, MFD_CLOEXEC);
  if (fd < 0) {
    const errno = errnoName(koffi.errno());
    throw new IsoswapError('ERR_STATE_ALLOC', `memfd_create failed for the state block (${bytes} bytes): ${errno}`, { bytes, errno });
  }
  const failed = posixFallocate(fd, 0, bytes);
  if (failed !== 0) {
    closeSync(fd);
    const errno = errnoName(failed);
    throw new IsoswapError('ERR_STATE_ALLOC', `cannot reserve ${bytes} bytes for the state block (posix_fallocate: ${errno})`, { bytes, errno });
  }
  return fd;
}

/**
 * Maps `bytes` of the descriptor `fd` shared, read-write. Throws ERR_STATE_MAP.
 */
export function mapShared(fd: number, bytes: number): MappedFile {
  const { mmap, munmap } = libcFunctions();
  const pointer = mmap(null, bytes, PROT_READ_WRITE, MAP_SHARED, fd, 0);
  if (pointer === null || koffi.address(pointer) === MAP_FAILED) {
    const errno = errnoName(koffi.errno());
    throw new IsoswapError('ERR_STATE_MAP', `cannot map the state block (${bytes} bytes, fd ${fd}): ${errno}`, { bytes, fd, errno });
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
