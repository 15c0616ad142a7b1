import { isMainThread } from 'node:worker_threads';
import { IsoswapError } from '../errors.js';
import type { StateRef } from '../wire/protocol.js';
import { inheritedFd } from '../wire/inherited-fds.js';
import { mapShared, type MappedFile } from './shared-memory.js';
import { namedMemory } from '../platform/named-objects.js';

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
  // Process isolation: the pointer stays valid until unload, so a library may keep it
  // between calls here too.
  const mapped = mapProcessState(ref);
  return { pointer: mapped.pointer, bytes: ref.bytes, close: () => mapped.unmap() };
}

/**
 * Process isolation: the block the host made, mapped here: the inherited memfd (Linux),
 * or the file mapping opened by its name (Windows).
 */
export function mapProcessState(ref: Exclude<StateRef, { kind: 'shared' }>): MappedFile {
  if (ref.kind === 'memfd') return mapInheritedState(ref.bytes, ref.fd);
  const memory = namedMemory(ref.name, ref.bytes, 'open');
  return { pointer: memory.pointer, bytes: ref.bytes, view: () => memory.buffer, unmap: () => memory.close() };
}

/**
 * Process isolation: the host's memfd, inherited at fork, mapped shared.
 */
export function mapInheritedState(bytes: number, hostFd?: number): MappedFile {
  // A worker thread of the host itself (onPinned: 'process' keeps the block in a memfd)
  // inherited nothing: the host's own descriptor is valid there.
  const fd = inheritedFd('state') ?? (isMainThread ? undefined : hostFd);
  if (fd === undefined) throw new IsoswapError('ERR_STATE_MAP', 'this process was not given the state block (no `state` fd inherited)', { bytes });
  return mapShared(fd, bytes);
}
