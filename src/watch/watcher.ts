import { watch, type FSWatcher } from 'chokidar';
import { basename, dirname, resolve } from 'node:path';
import { IsoswapError } from '../errors.js';
import { fileStamp, settleFile } from './settle.js';

/** What a {@link LibraryWatcher} needs from its host. */
export interface LibraryWatcherOptions {
  /** The absolute path of the library to watch. */
  library: string;
  /** The sha256 of the build serving now: a settled file with the same hash is no swap. */
  currentSha256(): string;
  /** Serves exactly these (checked, complete) bytes; rejects with an IsoswapError. */
  swap(bytes: Buffer, sha256: string): Promise<unknown>;
  /** A broken build or a failed swap nobody awaited. */
  onError(error: IsoswapError): void;
}

/**
 * Watches one library file and swaps to each complete build of it.
 *
 * It watches the file's directory, not the file: a linker that renames a new file into
 * place or deletes and re-creates it replaces the inode a file watch would be bound to.
 * Every event only marks the file dirty; one loop at a time settles it, so a burst of
 * events is one swap. After each round the loop stats the file again and goes on if it
 * moved, so a change made while a round was on is never left behind.
 */
export class LibraryWatcher {
  readonly #opts: LibraryWatcherOptions;
  readonly #chokidar: FSWatcher;
  #dirty = false;
  #closed = false;
  #loop: Promise<void> | null = null;
  /** The hash of the last build that failed, so that it is reported once. */
  #failedSha256: string | null = null;
  /** The errno of the last error reported: a file that stays unreadable (a symlink loop)
   *  is told once, not at every event the save made. */
  #lastProblem: string | null = null;

  private constructor(opts: LibraryWatcherOptions, chokidar: FSWatcher) {
    this.#opts = opts;
    this.#chokidar = chokidar;
  }

  /**
   * Starts watching; resolves once chokidar is ready (it reports nothing that happens
   * before), after one look at the file in case it changed while the watch was being set up.
   */
  static async start(opts: LibraryWatcherOptions): Promise<LibraryWatcher> {
    // chokidar 5 hands `ignored` and its events paths with forward slashes on Windows
    // (`C:/game`): compared as the system writes them, the folder itself was ignored and
    // no change was ever seen.
    const library = resolve(opts.library);
    const dir = dirname(library);
    const chokidar = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      // chokidar's `atomic` holds an unlink back 100 ms to merge it with an add: latency
      // for nothing here, since every event only marks the file dirty.
      atomic: false,
      ignored: (path: string) => resolve(path) !== dir && resolve(path) !== library,
    });
    const watcher = new LibraryWatcher(opts, chokidar);
    // chokidar's own events are not enough: it drops a second `change` of a path within
    // 50 ms of the first, and calls a file changed only if its mtime moved (or atime <=
    // mtime), so a build renamed into place with the mtime of the one it replaces (cp -p,
    // rsync -t, a build cache) is no event at all. Its raw fs.watch events, unthrottled,
    // name the file every time.
    const name = basename(opts.library);
    chokidar.on('all', (_event, path) => { if (resolve(path) === library) watcher.#markDirty(); });
    chokidar.on('raw', (_event, path) => { if (basename(path) === name) watcher.#markDirty(); });
    chokidar.on('error', (err) => watcher.#report(IsoswapError.from(err, 'ERR_WATCH', `watching ${opts.library}`)));
    await new Promise<void>((resolve, reject) => {
      chokidar.once('ready', resolve);
      chokidar.once('error', reject);
    }).catch(async (err) => {
      await chokidar.close();
      throw IsoswapError.from(err, 'ERR_WATCH', `watching ${opts.library}`);
    });
    watcher.#markDirty();
    return watcher;
  }

  /**
   * Stops watching and waits for the change being handled, if any.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#chokidar.close();
    while (this.#loop !== null) await this.#loop;
  }

  #markDirty(): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#loop ??= this.#run().finally(() => { this.#loop = null; });
  }

  async #run(): Promise<void> {
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      let settled: string | null | undefined; // undefined: failed; the next event retries
      try {
        settled = await this.#handleChange();
      } catch (err) {
        this.#report(IsoswapError.from(err, 'ERR_NOT_A_LIBRARY', `reading ${this.#opts.library}`));
      }
      // The look again that makes up for a change chokidar swallowed.
      if (settled !== undefined && (await fileStamp(this.#opts.library).catch(() => null)) !== settled) this.#dirty = true;
    }
  }

  /** Settles the file and swaps to it if it is new; returns the stamp it settled on. */
  async #handleChange(): Promise<string | null> {
    const settled = await settleFile(this.#opts.library, () => this.#closed);
    if (settled.kind === 'missing' || settled.kind === 'cancelled') return null;
    if (settled.sha256 === this.#opts.currentSha256()) this.#lastProblem = null;
    if (settled.sha256 === this.#opts.currentSha256() || settled.sha256 === this.#failedSha256) return settled.stamp;
    if (settled.kind === 'broken') {
      this.#failedSha256 = settled.sha256;
      this.#report(settled.error);
      return settled.stamp;
    }
    try {
      await this.#opts.swap(settled.bytes, settled.sha256);
      this.#failedSha256 = null;
      this.#lastProblem = null;
    } catch (err) {
      this.#failedSha256 = settled.sha256;
      this.#report(IsoswapError.from(err, 'ERR_NOT_A_LIBRARY', `loading ${this.#opts.library}`));
    }
    return settled.stamp;
  }

  #report(error: IsoswapError): void {
    if (this.#closed) return;
    const problem = errnoOf(error);
    if (problem !== null && problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    this.#opts.onError(error);
  }
}

/** The errno an error carries (in its details or its causes), if any. A build that is
 *  read but refused is told once per content already (#failedSha256). */
function errnoOf(error: IsoswapError): string | null {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const errno = (e as NodeJS.ErrnoException).code ?? (e instanceof IsoswapError ? e.details['errno'] : undefined);
    if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return errno;
  }
  return null;
}
