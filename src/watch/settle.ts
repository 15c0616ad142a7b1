import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { IsoswapError } from '../errors.js';
import { assertCompleteLibrary } from '../library/library-check.js';
import { readLibrary } from '../library/read-library.js';

/** How long a complete file's size and mtime must stay put before it is taken. */
export const SETTLE_MS = 10;
/** How often a file that is still incomplete is looked at again. */
export const POLL_MS = 10;
/** How long an incomplete file must stay unchanged before it counts as a broken build
 *  rather than one still being written. */
export const BROKEN_AFTER_MS = 400;

/** What a file was once it stopped moving. */
export type Settled =
  | { kind: 'missing' }
  | { kind: 'complete'; bytes: Buffer; sha256: string; stamp: string }
  | { kind: 'broken'; error: IsoswapError; sha256: string; stamp: string }
  | { kind: 'cancelled' };

/**
 * Size, mtime (ns), inode and ctime of a file, as one comparable string; null when it is
 * gone. The inode tells a file renamed into place from the one it replaced even when size
 * and mtime match.
 */
export async function fileStamp(file: string): Promise<string | null> {
  let s: BigIntStats;
  try {
    s = await stat(file, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function stampAgeMs(stamp: string): number {
  const mtimeNs = BigInt(stamp.split(':')[2] ?? '0');
  return Date.now() - Number(mtimeNs / 1_000_000n);
}

/**
 * Waits until `file` stops changing and says what it is then: a complete shared library
 * (with the exact bytes that were checked), a broken one, or missing. No fixed debounce:
 * a complete file whose mtime is already SETTLE_MS old is taken at once; one written just
 * now is stat'ed once more SETTLE_MS later. An incomplete file is polled (a linker or a
 * slow copy is still writing it) until it completes, or until it has not moved for
 * BROKEN_AFTER_MS: then it is a broken build (garbage, truncated).
 */
export async function settleFile(file: string, cancelled: () => boolean): Promise<Settled> {
  let stamp = await fileStamp(file);
  let since = performance.now();
  let read = null as { stamp: string; bytes: Buffer; error: IsoswapError | null } | null;
  for (;;) {
    if (cancelled()) return { kind: 'cancelled' };
    if (stamp === null) return { kind: 'missing' };
    if (read?.stamp !== stamp) {
      const bytes = await readLibrary(file).catch((err: unknown) => {
        if (err instanceof IsoswapError && err.code === 'ERR_LIBRARY_NOT_FOUND') return null;
        throw err;
      });
      const after = await fileStamp(file);
      if (bytes === null || after !== stamp) { // it moved while being read
        stamp = after;
        since = performance.now();
        continue;
      }
      read = { stamp, bytes, error: checkLibrary(bytes, file) };
    }
    // The mtime says how long the file has already been still, unless we saw it move since.
    const still = Math.max(performance.now() - since, stampAgeMs(stamp));
    const needed = read.error === null ? SETTLE_MS : BROKEN_AFTER_MS;
    if (still >= needed) {
      const sha256 = createHash('sha256').update(read.bytes).digest('hex');
      return read.error === null
        ? { kind: 'complete', bytes: read.bytes, sha256, stamp }
        : { kind: 'broken', error: read.error, sha256, stamp };
    }
    await sleep(read.error === null ? needed - still : POLL_MS);
    const now = await fileStamp(file);
    if (now !== stamp) {
      stamp = now;
      since = performance.now();
    }
  }
}

function checkLibrary(bytes: Buffer, file: string): IsoswapError | null {
  try {
    assertCompleteLibrary(bytes, file);
    return null;
  } catch (err) {
    return IsoswapError.from(err, 'ERR_NOT_A_LIBRARY', `checking ${file}`);
  }
}
