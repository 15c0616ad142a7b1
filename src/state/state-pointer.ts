import type { StateRef } from '../runtime/protocol.js';
import { mapFile } from './shared-memory.js';

/** What the hooks receive as `void *state`, and how to let go of it. */
export interface StatePointer {
  pointer: unknown;
  bytes: number;
  close(): void;
}

/**
 * The state block as a pointer koffi can pass. In thread isolation it is the host's
 * SharedArrayBuffer itself: koffi passes a typed array's own memory, not a copy, and a
 * SharedArrayBuffer never moves, so a library may keep the pointer between calls.
 */
export function openState(ref: StateRef): StatePointer {
  if (ref.kind === 'shared') {
    return { pointer: new Uint8Array(ref.buffer), bytes: ref.buffer.byteLength, close() {} };
  }
  // Process isolation: the host's /dev/shm file, mapped shared. The pointer stays valid
  // until unload, so a library may keep it between calls here too.
  const mapped = mapFile(ref.path, ref.bytes, false);
  return { pointer: mapped.pointer, bytes: ref.bytes, close: () => mapped.unmap() };
}
