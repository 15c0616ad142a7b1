import { createHash } from 'node:crypto';
import type { CopyStore } from './copy-store.js';
import { platform } from '../platform/platform.js';
import { assertCompleteLibrary } from './library-check.js';
import { readLibrary } from './read-library.js';

/**
 * An immutable copy of one build of the library, at a path no other version uses.
 * `dlopen` refcounts by path: loading a new build from the same path hands back the old
 * code, so every version gets its own copy (version id and content hash in the name).
 */
export class Artifact {
  private constructor(
    /** The path the user named. */
    readonly library: string,
    /** The private copy that is loaded. */
    readonly copy: string,
    readonly sha256: string,
    /** The build's bytes, kept so that a rollback works after the file on disk changed;
     *  null once the history lets them go. */
    public bytes: Buffer | null,
  ) {}

  /**
   * Reads `library` (a regular file only), checks it is a complete shared library, and
   * writes its copy. `checked` runs once the bytes passed the check, before they are
   * hashed and copied (the caller starts a runtime meanwhile).
   *
   * @example
   * const a = await Artifact.fromFile('/src/libgame.so', store, 3); // /src/.isoswap-4242-a1b2c3-v3-1a2b3c4d5e6f-libgame.so
   */
  static async fromFile(library: string, store: CopyStore, id: number, checked?: () => void): Promise<Artifact> {
    return Artifact.fromBytes(await readLibrary(library), library, store, id, undefined, checked);
  }

  /** Writes a copy of bytes already read (a rollback to a kept build, a watched save
   *  whose hash the watcher already took). */
  static async fromBytes(bytes: Buffer, library: string, store: CopyStore, id: number, sha256?: string, checked?: () => void): Promise<Artifact> {
    assertCompleteLibrary(bytes, library);
    checked?.();
    sha256 ??= createHash('sha256').update(bytes).digest('hex');
    const copy = await store.write(bytes, id, sha256);
    return new Artifact(library, copy, sha256, bytes);
  }

  /** The same, blocking: for a restart driven by a blocked callSync. */
  static fromBytesSync(bytes: Buffer, library: string, store: CopyStore, id: number, sha256?: string): Artifact {
    assertCompleteLibrary(bytes, library);
    sha256 ??= createHash('sha256').update(bytes).digest('hex');
    return new Artifact(library, store.writeSync(bytes, id, sha256), sha256, bytes);
  }

  /** Deletes the copy (Windows may hold it a moment after unloading); the bytes stay for a rollback. */
  async remove(): Promise<void> {
    await platform().removeCopy(this.copy);
  }

  removeSync(): void {
    platform().removeCopySync(this.copy);
  }
}
