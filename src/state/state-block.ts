import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Isolation } from '../options.js';
import type { StateRef } from '../runtime/protocol.js';
import { mapFile } from './shared-memory.js';
import { IsoswapError } from '../errors.js';

/** The memory that survives swaps, as the host holds it. */
export interface StateBlock {
  readonly view: Uint8Array;
  readonly ref: StateRef;
  close(): void;
}

/**
 * Makes the state block. Thread isolation: a SharedArrayBuffer, the very same memory in
 * the host and every version's thread, never copied on a swap.
 *
 * @example
 * const block = createStateBlock(4096, 'thread'); block.view[0] = 1;
 */
export function createStateBlock(bytes: number, isolation: Isolation): StateBlock {
  try {
    if (isolation === 'thread') {
      const buffer = new SharedArrayBuffer(bytes);
      return { view: new Uint8Array(buffer), ref: { kind: 'shared', buffer }, close() {} };
    }
    return createFileBlock(bytes);
  } catch (err) {
    // Out of memory (a RangeError) or of /dev/shm space: a typed error, not a crash.
    throw IsoswapError.from(err, 'ERR_INVALID_OPTIONS', `cannot make a state block of ${bytes} bytes (state.bytes)`);
  }
}

const liveFiles = new Set<string>();
let exitHookSet = false;

/**
 * Process isolation: a file in /dev/shm (tmpfs: memory, not disk) that the host and every
 * child map MAP_SHARED, so the block outlives a child that crashes. The file is unlinked
 * at close, or when the host process exits without closing.
 *
 * The host never munmaps it: a user may still hold `host.state` (a view over the
 * mapping) after close, and touching unmapped memory is a segfault, not an exception.
 * The mapping (`bytes`, rounded up to a page) stays until the host process exits.
 */
function createFileBlock(bytes: number): StateBlock {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(dir, `isoswap-${process.pid}-${randomBytes(6).toString('hex')}.state`);
  let view: Uint8Array;
  try {
    view = new Uint8Array(mapFile(path, bytes, true).view());
  } catch (err) {
    rmSync(path, { force: true }); // a block that could not be made leaves no file
    throw err;
  }
  liveFiles.add(path);
  if (!exitHookSet) {
    exitHookSet = true;
    process.once('exit', () => { for (const file of liveFiles) rmSync(file, { force: true }); });
  }
  return {
    view,
    ref: { kind: 'file', path, bytes },
    close() {
      rmSync(path, { force: true });
      liveFiles.delete(path);
    },
  };
}
