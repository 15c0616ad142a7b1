import { IsoswapError } from '../errors.js';
import type { ParamType } from '../wire/protocol.js';

/**
 * `_Out_`/`_Inout_` buffers, on every path. The library writes into a copy (the ring's
 * arena, or the clone a message carried); the bytes it left there are written back into
 * the caller's view once the call answered. The caller owns that view meanwhile and may
 * detach it (transfer, `structuredClone(..., { transfer })`) or shrink its resizable
 * buffer: then the call still resolves (it ran) and the loss is reported, never thrown
 * where nothing could catch it.
 */

/** Reports bytes that could not be written back (the host emits `warning`). */
export type LostBytes = (error: IsoswapError) => void;

/** The positions of a prototype's `_Out_`/`_Inout_` pointer parameters; empty for none. */
export function outPositions(params: readonly ParamType[]): number[] {
  const positions: number[] = [];
  params.forEach((param, i) => {
    if (param.kind === 'pointer' && param.direction !== 'Input') positions.push(i);
  });
  return positions;
}

/**
 * Writes `bytes` into `view`; false when the view no longer covers that many bytes
 * (detached: its length reads 0; a fixed view past the end of a shrunk buffer: also 0).
 * A view that grew takes the bytes at its start.
 */
export function writeBack(view: ArrayBufferView, bytes: Uint8Array): boolean {
  if (bytes.byteLength === 0) return true;
  if (view.byteLength < bytes.byteLength) return false;
  new Uint8Array(view.buffer, view.byteOffset, bytes.byteLength).set(bytes);
  return true;
}

/** The warning for argument `position` (0-based) of `fn`, whose bytes were not written back. */
export function lostBytes(fn: string, position: number, where: string): IsoswapError {
  return new IsoswapError('ERR_BUFFER_LOST',
    `${fn} in ${where}: argument ${position + 1} was detached or shrunk while the call ran; what the library wrote there could not be written back (the call resolved)`,
    { function: fn, position: position + 1 });
}

/** What the worker sends back for a call with `_Out_` buffers: its result, and per
 *  position asked for, the bytes of the argument's copy (null: nothing to copy, e.g. a
 *  view over memory both sides share). */
export interface CopiedBack {
  value: unknown;
  out: Array<Uint8Array | null>;
}

/**
 * Worker side: after a call on cloned arguments, the bytes to send back.
 */
export function copiesOf(args: readonly unknown[], positions: readonly number[]): Array<Uint8Array | null> {
  return positions.map((i) => {
    const arg = args[i];
    return ArrayBuffer.isView(arg) ? new Uint8Array(arg.buffer, arg.byteOffset, arg.byteLength) : null;
  });
}

/**
 * Host side: writes what the worker sent back into the caller's views, and returns the
 * call's result.
 */
export function applyCopies(
  fn: string, args: readonly unknown[], positions: readonly number[], copied: CopiedBack, lost: LostBytes | undefined, where: string,
): unknown {
  positions.forEach((position, k) => {
    const bytes = copied.out[k];
    const view = args[position];
    if (bytes === null || bytes === undefined || !ArrayBuffer.isView(view)) return;
    if (!writeBack(view, bytes)) lost?.(lostBytes(fn, position, where));
  });
  return copied.value;
}

/** Of `positions`, those whose argument is a view over memory the worker does not write
 *  itself (`shares`: a SharedArrayBuffer reaches it as the memory itself). */
export function needingCopies(args: readonly unknown[], positions: readonly number[], shares: boolean): number[] {
  return positions.filter((i) => {
    const arg = args[i];
    return ArrayBuffer.isView(arg) && !(shares && arg.buffer instanceof SharedArrayBuffer);
  });
}
