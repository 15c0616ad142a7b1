import { randomBytes } from 'node:crypto';
import { closeSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { platform } from '../platform/platform.js';
import { blocking } from '../procedure.js';

/** Every file isoswap writes beside a library or in the temp dir starts with this. */
export const COPY_PREFIX = '.isoswap-';
/** The longest file name Linux (and macOS) accept, in bytes. */
const NAME_MAX = 255;
const OWNER = /^\.isoswap-(\d+-[0-9a-f]{6})(?:\.lock$|-v\d+-)/;

const lockName = (owner: string): string => `${COPY_PREFIX}${owner}.lock`;

/**
 * One directory a host keeps its private copies in, and the lock file that marks them as
 * owned: `.isoswap-<owner>.lock`, held for as long as the host lives (flock on Linux, an
 * exclusive open on Windows). The system lets go when the process dies, however it dies,
 * so the next host knows the copies are abandoned by taking the lock, not by a pid (pids
 * mean nothing across pid namespaces).
 */
export class CopyPlace {
  private constructor(readonly dir: string, private readonly owner: string, private fd: number | null) {}

  /**
   * Creates and locks this host's lock file in `dir`; throws the fs error (EROFS, EACCES,
   * ENOENT, ENOTDIR...) when `dir` takes no file.
   */
  static claim(dir: string): CopyPlace {
    for (let attempt = 0; ; attempt++) {
      const owner = `${process.pid}-${randomBytes(3).toString('hex')}`;
      try {
        return new CopyPlace(dir, owner, platform().createOwnerLock(join(dir, lockName(owner))));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt === 3) throw err;
      }
    }
  }

  /**
   * The path of the copy of build `id`: `.isoswap-<owner>-v<id>-<hash12>-<name>`, the
   * name shortened from the front so that the whole fits NAME_MAX bytes.
   */
  copyPath(id: number, sha256: string, library: string): string {
    const prefix = `${COPY_PREFIX}${this.owner}-v${id}-${sha256.slice(0, 12)}-`;
    return join(this.dir, prefix + lastBytes(basename(library), NAME_MAX - Buffer.byteLength(prefix)));
  }

  /** Removes this host's copies, lets go of the lock, and removes the lock file (Windows
   *  removes no file that is open without sharing). */
  release(): void {
    if (this.fd === null) return;
    removeOwned(this.dir, this.owner, listDir(this.dir));
    closeSync(this.fd);
    this.fd = null;
    rmSync(join(this.dir, lockName(this.owner)), { force: true });
  }
}

/**
 * Removes from `dir` the copies and lock files of hosts that are gone: those whose lock
 * file nobody holds (or that have no lock file left). Best effort: a file that cannot be
 * removed stays.
 */
export function sweepAbandoned(dir: string): void {
  const names = listDir(dir);
  const owners = new Set(names.map((n) => OWNER.exec(n)?.[1]).filter((o): o is string => o !== undefined));
  for (const owner of owners) {
    let fd: number | null;
    try {
      fd = platform().takeAbandonedLock(join(dir, lockName(owner)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') removeOwned(dir, owner, names); // no lock: nobody owns them
      continue;
    }
    if (fd === null) continue; // alive, or another sweeper got there first
    try {
      removeOwned(dir, owner, names);
    } finally {
      closeSync(fd); // before the removal: Windows removes no file open without sharing
    }
    try { rmSync(join(dir, lockName(owner)), { force: true }); } catch { /* best effort */ }
  }
}

function removeOwned(dir: string, owner: string, names: string[]): void {
  const copy = `${COPY_PREFIX}${owner}-v`;
  for (const name of names) {
    if (name.startsWith(copy)) {
      try { blocking(platform().removeCopy(join(dir, name))); } catch { /* best effort */ }
    }
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.startsWith(COPY_PREFIX));
  } catch {
    return [];
  }
}

/** The end of `name` that fits `max` UTF-8 bytes, cut between characters. */
function lastBytes(name: string, max: number): string {
  if (Buffer.byteLength(name) <= max) return name;
  const chars = [...name];
  let bytes = 0;
  let start = chars.length;
  while (start > 0 && bytes + Buffer.byteLength(chars[start - 1]!) <= max) bytes += Buffer.byteLength(chars[--start]!);
  return chars.slice(start).join('');
}
