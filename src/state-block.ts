import type { Isolation } from './options.js';
import type { StateRef } from './protocol.js';

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
  if (isolation === 'thread') {
    const buffer = new SharedArrayBuffer(bytes);
    return { view: new Uint8Array(buffer), ref: { kind: 'shared', buffer }, close() {} };
  }
  throw new Error('process-isolation state is not built yet');
}
