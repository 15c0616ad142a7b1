import { createHash } from 'node:crypto';
import { IsoswapError } from '../errors.js';
import { readLibrary } from '../library/read-library.js';

/** One build as the fleet carries it: its bytes and their sha256. */
export interface FleetBuild {
  sha256: string;
  bytes: Buffer;
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The build at `library` now. */
export async function readBuild(library: string): Promise<FleetBuild> {
  const bytes = await readLibrary(library);
  return { bytes, sha256: sha256Of(bytes) };
}

/**
 * Bytes that arrived for `sha256` (over IPC, from Redis), checked: every member hashes
 * what it loads itself, so a corrupted transfer or a wrong key is refused, never served.
 */
export function verifiedBuild(bytes: Buffer, sha256: string, from: string): FleetBuild {
  const got = sha256Of(bytes);
  if (got !== sha256) {
    throw new IsoswapError('ERR_FLEET_HASH_MISMATCH', `the build fetched from ${from} hashes to ${got.slice(0, 12)}…, not to the fleet's ${sha256.slice(0, 12)}…`,
      { expected: sha256, actual: got, bytes: bytes.length });
  }
  return { bytes, sha256 };
}

/**
 * What a member loads for `sha256`: its own `library` when that holds these bytes, else
 * the bytes fetched from the fleet (a member whose disk holds another build).
 */
export async function buildFor(sha256: string, library: string, fetch: (sha256: string) => Promise<Buffer>, from: string): Promise<FleetBuild> {
  const own = await readBuild(library).catch(() => null);
  if (own?.sha256 === sha256) return own;
  return verifiedBuild(await fetch(sha256), sha256, from);
}
