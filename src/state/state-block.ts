import { closeSync } from 'node:fs';
import { IsoswapError } from '../errors.js';
import type { Isolation } from '../options.js';
import type { StateRef } from '../wire/protocol.js';
import { createSharedMemory, mapShared } from './shared-memory.js';
import { platform } from '../platform/platform.js';
import { namedMemory, uniqueName } from '../platform/named-objects.js';

/** The memory that survives swaps, as the host holds it. */
export interface StateBlock {
  readonly view: Uint8Array;
  readonly ref: StateRef;
  close(): void;
}

/**
 * Makes the state block. Thread isolation: a SharedArrayBuffer, the very same memory in
 * the host and every version's thread, never copied on a swap.
 */
export function createStateBlock(bytes: number, isolation: Isolation): StateBlock {
  if (isolation === 'process') return createMemfdBlock(bytes);
  try {
    const buffer = new SharedArrayBuffer(bytes);
    return { view: new Uint8Array(buffer), ref: { kind: 'shared', buffer }, close() {} };
  } catch (err) {
    // Out of memory (a RangeError): a typed error, not a crash.
    throw IsoswapError.from(err, 'ERR_STATE_ALLOC', `cannot make a state block of ${bytes} bytes (state.bytes)`);
  }
}

/**
 * Process isolation: a memfd (anonymous shared memory, no file in /dev/shm or anywhere)
 * that the host and every child map MAP_SHARED, so the block outlives a child that
 * crashes; each child inherits the descriptor when it is forked. Its pages are reserved
 * up front (ERR_STATE_ALLOC when they cannot be had), and the kernel frees them when the
 * last process holding them is gone, however the host ends.
 *
 * The host never munmaps it: a user may still hold `host.state` (a view over the
 * mapping) after close, and touching unmapped memory is a segfault, not an exception.
 * The mapping (`bytes`, rounded up to a page) stays until the host process exits.
 */
function createMemfdBlock(bytes: number): StateBlock {
  if (platform().namedChannels) return createNamedBlock(bytes);
  if (!platform().inheritedChannels) {
    throw new IsoswapError('ERR_UNSUPPORTED_PLATFORM', `a state block in process isolation needs Linux (memfd_create); this is ${platform().name}`, { bytes });
  }
  const fd = createSharedMemory(bytes);
  let open = true;
  try {
    return {
      view: new Uint8Array(mapShared(fd, bytes).view()),
      ref: { kind: 'memfd', fd, bytes },
      close() {
        if (open) closeSync(fd); // children forked from now on get no block; the mapping stays
        open = false;
      },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Process isolation on Windows: a pagefile-backed file mapping under a unique name, which
 * every child opens by that name (the LoadRequest carries it). Committed when made
 * (ERR_STATE_ALLOC when it cannot be had); Windows frees it once the last process that
 * holds it is gone. As the memfd, it stays mapped in the host until the host exits.
 */
function createNamedBlock(bytes: number): StateBlock {
  const name = uniqueName('state');
  const memory = namedMemory(name, bytes, 'create');
  return { view: new Uint8Array(memory.buffer), ref: { kind: 'named', name, bytes }, close() {} };
}
