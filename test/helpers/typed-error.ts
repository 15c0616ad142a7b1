// The matcher the surface tests share: an IsoswapError with a code and some details.
import assert from 'node:assert/strict';
import { IsoswapError, type IsoswapErrorCode } from '../../src/index.js';

/** An assert.rejects/throws matcher: an IsoswapError with `code` and these details. */
export const typed = (code: IsoswapErrorCode, details: Record<string, unknown> = {}) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, `expected an IsoswapError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  for (const [key, value] of Object.entries(details)) assert.deepEqual(err.details[key], value, `${key} in ${err.message}`);
  return true;
};
