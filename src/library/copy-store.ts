import { rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { IsoswapError } from '../errors.js';
import { CopyPlace, sweepAbandoned } from './copy-place.js';
import { SYNC_IO_LIMIT } from './read-library.js';
import { step, type Steps } from '../procedure.js';

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

/**
 * Where one host writes the private copies of its builds. Beside the library, under a
 * hidden name, so that `$ORIGIN` in the library's RPATH/RUNPATH means what it means for
 * the original (its directory: sibling libraries, cargo's target/<profile>/deps). Where
 * that directory takes no file (read-only, full), in the temp dir. A host that starts
 * first removes the copies of hosts that are gone, in both places.
 */
export class CopyStore {
  #temp: CopyPlace | null = null;
  /** undefined until the first write claims the library's directory; null if it refused. */
  #beside: CopyPlace | null | undefined;
  /** Why the library's directory was given up, for the error when the temp dir fails too. */
  #besideRefused: string | null = null;

  private constructor(private readonly library: string, private readonly tempDir: string) {}

  /**
   * Sweeps the copies of hosts that are gone, beside the library and in the temp dir.
   * Nothing is claimed before the first write: a library that cannot be read is reported
   * as such, and leaves no lock file.
   */
  static open(library: string, tempDir = tmpdir()): CopyStore {
    sweepAbandoned(dirname(library));
    sweepAbandoned(tempDir);
    return new CopyStore(library, tempDir);
  }

  /**
   * Writes `bytes` as the copy of build `id` and returns its path. A write that fails
   * beside the library is tried in the temp dir; nothing partial is left anywhere.
   * Throws ERR_TEMP_DIR or ERR_COPY_FAILED (naming the path and errno).
   */
  *write(bytes: Buffer, id: number, sha256: string): Steps<string> {
    const beside = this.#besidePath(id, sha256);
    if (beside !== null) {
      try {
        yield* writeCopy(beside, bytes);
        return beside;
      } catch (err) {
        this.#refusedBeside(beside, err);
      }
    }
    const copy = this.#claimTemp().copyPath(id, sha256, this.library);
    try {
      yield* writeCopy(copy, bytes);
      return copy;
    } catch (err) {
      throw this.#copyFailed(copy, err);
    }
  }

  /** The copy's path beside the library, claiming that directory at the first write;
   *  null where it refused. */
  #besidePath(id: number, sha256: string): string | null {
    if (this.#beside === undefined) {
      try {
        this.#beside = CopyPlace.claim(dirname(this.library));
      } catch (err) {
        this.#beside = null;
        this.#besideRefused = `${dirname(this.library)}: ${errno(err)}`;
      }
    }
    return this.#beside?.copyPath(id, sha256, this.library) ?? null;
  }

  /** Full, or remounted read-only: the temp dir may take it. */
  #refusedBeside(copy: string, err: unknown): void {
    this.#besideRefused = `${copy}: ${errno(err)}`;
  }

  #copyFailed(copy: string, err: unknown): IsoswapError {
    return new IsoswapError('ERR_COPY_FAILED', `cannot write the private copy of ${this.library} to ${copy}: ${errno(err)}${this.#refusedNote()}`,
      { file: this.library, path: copy, errno: errno(err) }, { cause: err });
  }

  /** Removes every copy this host wrote and its lock files. */
  close(): void {
    this.#beside?.release();
    this.#temp?.release();
  }

  #claimTemp(): CopyPlace {
    if (this.#temp !== null) return this.#temp;
    try {
      this.#temp = CopyPlace.claim(this.tempDir);
      return this.#temp;
    } catch (err) {
      throw new IsoswapError('ERR_TEMP_DIR', `no place for the private copies of ${this.library}: the temp dir ${this.tempDir} refused (${errno(err)})${this.#refusedNote()}`,
        { file: this.library, path: this.tempDir, errno: errno(err) }, { cause: err });
    }
  }

  #refusedNote(): string {
    return this.#besideRefused === null ? '' : `; beside the library: ${this.#besideRefused}`;
  }
}

const COPY_OPTIONS = { mode: 0o600, flag: 'wx' } as const;

/** Writes a new file (0600, O_EXCL); on failure removes what was written and rethrows. */
function* writeCopy(copy: string, bytes: Buffer): Steps<void> {
  try {
    yield* writeNewFile(copy, bytes);
  } catch (err) {
    throw removePartial(copy, err);
  }
}

const writeNewFile = step((copy: string, bytes: Buffer) => writeFileSync(copy, bytes, COPY_OPTIONS),
  // A small copy is written at once: through libuv's thread pool each fs step costs more.
  (copy: string, bytes: Buffer) => bytes.length <= SYNC_IO_LIMIT ? Promise.resolve(writeFileSync(copy, bytes, COPY_OPTIONS)) : writeFile(copy, bytes, COPY_OPTIONS));

/** O_EXCL: an existing file is not ours to remove (names are unique per host, so never). */
function removePartial(copy: string, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(copy, { force: true });
  return err;
}
