import { spawn } from 'node:child_process';
import { platform } from '../platform/platform.js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { IsoswapError } from '../errors.js';
import { TrailingCheck } from '../watch/trailing.js';
import { IgnoreRules } from './ignore-rules.js';

/** Quiet time after the last source event before the build starts: an editor's save,
 *  a formatter or `git checkout` writes several files (and events) in a burst. */
const SETTLE_MS = 150;
/** A build asked to stop gets SIGTERM, then SIGKILL this much later. */
const KILL_AFTER_MS = 1000;
/** The tail of a failed build's output that is shown. */
const OUTPUT_LIMIT = 64 * 1024;

/** One run of the build command. */
export interface BuildResult {
  ok: boolean;
  ms: number;
  /** stdout and stderr, interleaved, at most the last 64 KiB. */
  output: string;
  /** Stopped by its AbortSignal (Ctrl-C): neither a success nor a failure to show. */
  aborted: boolean;
}

export interface BuildWatcherOptions {
  /** A shell command, e.g. `cargo build --release` or `make`. */
  command: string;
  /** The folder of sources to watch. */
  src: string;
  /** Globs of `--ignore`, added to the defaults. */
  ignore: string[];
  /** Files that are never sources: the artifact (the host watches it), the command's
   *  own redirected output. */
  ignoreFiles: string[];
  onBuilding(): void;
  onBuild(result: BuildResult): void;
}

/**
 * Runs a build command in a shell, in its own process group, and resolves with its
 * result; a failure (exit code, signal, command not found) is `ok: false` with the
 * output to show. Aborting `signal` ends the whole group (the compiler too, not just the
 * shell).
 */
export function runBuild(command: string, signal?: AbortSignal): Promise<BuildResult> {
  const started = performance.now();
  return new Promise((done) => {
    // detached: a group (and session) of its own, which the terminal's Ctrl-C does not
    // reach; the CLI ends it itself, all of it.
    const tree = platform().processTree();
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) tree.adopt(child.pid);
    let output = '';
    let killTimer: NodeJS.Timeout | null = null;
    const collect = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-OUTPUT_LIMIT); };
    const kill = (): void => {
      tree.end('SIGTERM');
      killTimer = setTimeout(() => tree.end('SIGKILL'), KILL_AFTER_MS);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => { output += `${err.message}\n`; });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', kill);
      if (killTimer !== null) clearTimeout(killTimer);
      tree.release();
      if (code !== 0) output += `\n(${command}: ${sig !== null ? `killed by ${sig}` : `exit code ${code}`})`;
      done({ ok: code === 0, ms: performance.now() - started, output, aborted: signal?.aborted === true });
    });
    if (child.pid === undefined) return;
    if (signal?.aborted === true) kill();
    else signal?.addEventListener('abort', kill, { once: true });
  });
}

/**
 * An ERR_BUILD_FAILED error with the build's output in `details.output`.
 */
export function buildFailed(command: string, result: BuildResult): IsoswapError {
  return new IsoswapError('ERR_BUILD_FAILED', `build failed: ${command}`, { command, output: result.output });
}

/**
 * Watches a source folder and runs the build command once per burst of changes: one
 * build at a time, and the changes made while it runs are one more build after it. An
 * event for a file whose content is what the last event already saw (chokidar reports
 * some saves twice) starts nothing; chokidar's swallowed second change is found by a
 * {@link TrailingCheck}.
 */
export class BuildWatcher {
  #building: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #stop = new AbortController();
  /** Path → digest of its content when last seen (null: missing). */
  readonly #seen = new Map<string, string | null>();
  readonly #trailing = new TrailingCheck((path) => void this.#changed(path));

  private constructor(private readonly opts: BuildWatcherOptions, private readonly chokidar: FSWatcher) {}

  /**
   * Starts watching `src`; resolves once chokidar is ready (it reports nothing before).
   */
  static async start(opts: BuildWatcherOptions): Promise<BuildWatcher> {
    const rules = new IgnoreRules(opts.src, opts.ignore, opts.ignoreFiles);
    const chokidar = watch(resolve(opts.src), { ignoreInitial: true, ignored: (path: string) => rules.ignores(path) });
    const watcher = new BuildWatcher(opts, chokidar);
    chokidar.on('all', (event, path) => {
      if (event === 'addDir') return; // an empty folder changes no build
      watcher.#trailing.seen(path); // an edit saved twice within 50 ms is reported once
      void watcher.#changed(path);
    });
    await new Promise<void>((ready) => chokidar.once('ready', () => ready()));
    return watcher;
  }

  /**
   * Runs the build now (or once more after the one running).
   */
  build(): Promise<void> {
    if (this.#building !== null) {
      this.#again = true;
      return this.#building;
    }
    this.#building = (async () => {
      do {
        this.#again = false;
        this.opts.onBuilding();
        const result = await runBuild(this.opts.command, this.#stop.signal);
        if (!result.aborted) this.opts.onBuild(result);
      } while (this.#again && !this.#stop.signal.aborted);
    })().finally(() => { this.#building = null; });
    return this.#building;
  }

  /**
   * Stops watching and ends a build still running (its whole process group).
   */
  async close(): Promise<void> {
    this.#stop.abort();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#trailing.close();
    await Promise.all([this.chokidar.close(), this.#building]);
  }

  async #changed(path: string): Promise<void> {
    const digest = await readFile(path).then((bytes) => createHash('sha1').update(bytes).digest('hex'), () => null);
    if (this.#seen.has(path) && this.#seen.get(path) === digest) return;
    this.#seen.set(path, digest);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stop.signal.aborted) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.build();
    }, SETTLE_MS);
  }
}
