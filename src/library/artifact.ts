import { createHash } from 'node:crypto';
import type { Steps } from '../procedure.js';
import type { CopyStore } from './copy-store.js';
import { platform } from '../platform/platform.js';
import { assertCompleteLibrary } from './library-check.js';

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
   * Checks that `bytes` (read from `library`, or kept for a rollback or restart) are a
   * complete shared library, and writes their copy. `checked` runs once they passed the
   * check, before they are hashed and copied (the caller starts a runtime meanwhile).
   */
  static *fromBytes(bytes: Buffer, library: string, store: CopyStore, id: number, sha256?: string, checked?: () => Steps<void>): Steps<Artifact> {
    assertCompleteLibrary(bytes, library);
    if (checked !== undefined) yield* checked();
    sha256 ??= createHash('sha256').update(bytes).digest('hex');
    const copy = yield* store.write(bytes, id, sha256);
    return new Artifact(library, copy, sha256, bytes);
  }

  /** Deletes the copy (Windows may hold it a moment after unloading); the bytes stay for a rollback. */
  remove(): Steps<void> {
    return platform().removeCopy(this.copy);
  }
}
