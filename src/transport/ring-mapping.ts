import { closeSync } from 'node:fs';
import koffi from 'koffi';
import { libcFunctions } from '../library/libc.js';

/** Memory mapped MAP_SHARED from a memfd: the host and one child see the same bytes. */
export interface RingMapping {
  /** The mapping as an ArrayBuffer (koffi.view: no copy). Atomics.load/store work on it;
   *  Atomics.wait does not (see futex.ts). */
  readonly buffer: ArrayBuffer;
  /** Its first byte's address, for futex calls. */
  readonly address: number;
  /** munmap: every view over `buffer` must be dropped first (touching one would segfault). */
  unmap(): void;
}

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED = 0x01;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;
const MFD_CLOEXEC = 0x1;

/**
 * A new memfd of `bytes`, all reserved now (a sparse one would SIGBUS on a full tmpfs at
 * the first write of a page), close-on-exec (a fork passes it on only where the stdio
 * array names it). No file exists anywhere: the memory goes with its last fd and mapping.
 * -1 when the kernel refuses: the child then serves every call on its pipes and IPC.
 *
 * @example
 * const fd = createRingMemory(4096); fork(entry, [], { stdio: [..., fd] }); const ring = mapRing(fd, 4096); closeSync(fd);
 */
export function createRingMemory(bytes: number): number {
  const { memfdCreate, posixFallocate } = libcFunctions();
  const fd = memfdCreate('isoswap-ring', MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (posixFallocate(fd, 0, bytes) !== 0) {
    closeSync(fd);
    return -1;
  }
  return fd;
}

/**
 * Maps `bytes` of the memfd `fd` shared, read-write. The fd may be closed afterwards: the
 * mapping keeps the memory. Null when mmap fails (the ring is then not used).
 *
 * @example
 * const ring = mapRing(inheritedFd('ring')!, RING_BYTES);
 */
export function mapRing(fd: number, bytes: number): RingMapping | null {
  const { mmap, munmap } = libcFunctions();
  const pointer = mmap(null, bytes, PROT_READ_WRITE, MAP_SHARED, fd, 0);
  if (pointer === null || koffi.address(pointer) === MAP_FAILED) return null;
  let mapped = true;
  return {
    buffer: koffi.view(pointer, bytes),
    address: Number(koffi.address(pointer)), // user addresses fit in 47 bits
    unmap() {
      if (mapped) munmap(pointer, bytes);
      mapped = false;
    },
  };
}
