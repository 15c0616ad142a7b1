import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { IsoswapError } from '../errors.js';
import { assertCompleteLibrary } from './library-check.js';

// Through libuv's thread pool every fs step of a small copy costs more than the I/O itself
// (1-2 ms of a ~6 ms reload here); a library up to 1 MiB is read and written synchronously,
// a larger one (a Rust debug build) without blocking the event loop.
const SYNC_IO_LIMIT = 1 << 20;

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
   * Reads `library`, checks it is a complete shared library, and writes its copy.
   *
   * @example
   * const a = await Artifact.fromFile('./libgame.so', dir, 3); // dir/v3-1a2b3c4d5e6f-libgame.so
   */
  static async fromFile(library: string, dir: string, id: number): Promise<Artifact> {
    let bytes: Buffer;
    try {
      bytes = statSync(library).size <= SYNC_IO_LIMIT ? readFileSync(library) : await readFile(library);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new IsoswapError('ERR_LIBRARY_NOT_FOUND', `library not found: ${library}`, { file: library }, { cause: err });
      }
      throw new IsoswapError('ERR_NOT_A_LIBRARY', `cannot read ${library}: ${(err as Error).message}`, { file: library }, { cause: err });
    }
    return Artifact.fromBytes(bytes, library, dir, id);
  }

  /** Writes a copy of bytes already read (a rollback to a kept build, a watched save
   *  whose hash the watcher already took). */
  static async fromBytes(bytes: Buffer, library: string, dir: string, id: number, sha256?: string): Promise<Artifact> {
    assertCompleteLibrary(bytes, library);
    sha256 ??= createHash('sha256').update(bytes).digest('hex');
    const copy = join(dir, `v${id}-${sha256.slice(0, 12)}-${basename(library)}`);
    const options = { mode: 0o600, flag: 'wx' } as const;
    if (bytes.length <= SYNC_IO_LIMIT) writeFileSync(copy, bytes, options);
    else await writeFile(copy, bytes, options);
    return new Artifact(library, copy, sha256, bytes);
  }

  /** Deletes the copy; the bytes stay for a rollback. */
  async remove(): Promise<void> {
    await rm(this.copy, { force: true });
  }
}

/**
 * Makes the private (0700) directory a host keeps its copies in, named after this
 * process, and removes those a killed process left behind (a host that closes removes its
 * own; one killed by SIGKILL cannot).
 *
 * @example
 * const dir = await makeArtifactDir(); // /tmp/isoswap-4242-XXXXXX
 */
export async function makeArtifactDir(parent = tmpdir()): Promise<string> {
  await removeOrphanDirs(parent).catch(() => {}); // best effort: never a reason not to start
  return mkdtemp(join(parent, `isoswap-${process.pid}-`)); // mkdtemp creates the directory 0700
}

async function removeOrphanDirs(parent: string): Promise<void> {
  for (const entry of await readdir(parent, { withFileTypes: true })) {
    const pid = /^isoswap-(\d+)-[A-Za-z0-9]{6}$/.exec(entry.name)?.[1];
    if (pid === undefined || !entry.isDirectory() || isAlive(Number(pid))) continue;
    const dir = join(parent, entry.name);
    if ((await stat(dir)).uid !== process.getuid?.()) continue;
    await rm(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}
