import koffi from 'koffi';
import { IsoswapError } from '../errors.js';
import { createSharedMemory, mapShared, type MappedFile } from '../state/shared-memory.js';

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

/**
 * A new memfd of `bytes`, all reserved now (a sparse one would SIGBUS on a full tmpfs at
 * the first write of a page), close-on-exec (a fork passes it on only where the stdio
 * array names it). No file exists anywhere: the memory goes with its last fd and mapping.
 * -1 when the kernel refuses: the child then serves every call on its pipes and IPC.
 */
export function createRingMemory(bytes: number): number {
  try {
    return createSharedMemory(bytes, 'isoswap-ring');
  } catch (err) {
    if (err instanceof IsoswapError) return -1; // no ring: not an error of the host
    throw err;
  }
}

/**
 * Maps `bytes` of the memfd `fd` shared, read-write. The fd may be closed afterwards: the
 * mapping keeps the memory. Null when mmap fails (the ring is then not used).
 */
export function mapRing(fd: number, bytes: number): RingMapping | null {
  let mapped: MappedFile;
  try {
    mapped = mapShared(fd, bytes);
  } catch (err) {
    if (err instanceof IsoswapError) return null;
    throw err;
  }
  return {
    buffer: mapped.view(),
    address: Number(koffi.address(mapped.pointer)), // user addresses fit in 47 bits
    unmap: () => mapped.unmap(),
  };
}
