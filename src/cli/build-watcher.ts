import { spawn } from 'node:child_process';
import { basename, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { IsoswapError } from '../errors.js';
import { TrailingCheck } from '../watch/trailing.js';

/** Source events closer together than this are one build (an editor's write + rename). */
const COALESCE_MS = 25;
/** The tail of a failed build's output that is shown. */
const OUTPUT_LIMIT = 64 * 1024;
// Build products and tool folders: a change there must not start another build.
const IGNORED_DIRS = new Set(['node_modules', 'target', 'dist', 'build', '.git']);
const IGNORED_FILE = /(^\.|~$|\.(o|a|so|d|tmp|swp|lock|log)$)/;
/** Process groups of the builds running now. */
const running = new Set<number>();

/** One run of the build command. */
export interface BuildResult {
  ok: boolean;
  ms: number;
  /** stdout and stderr, interleaved, at most the last 64 KiB. */
  output: string;
}

export interface BuildWatcherOptions {
  /** A shell command, e.g. `cargo build --release` or `make`. */
  command: string;
  /** The folder of sources to watch. */
  src: string;
  /** The artifact: its changes are the host's to watch, never a reason to build. */
  library: string;
  onBuild(result: BuildResult): void;
}

/**
 * Runs a build command in a shell and resolves with its result; a failure (exit code,
 * signal, command not found) is `ok: false` with the output to show.
 *
 * @example
 * const r = await runBuild('make -C native/c'); if (!r.ok) console.error(r.output);
 */
export function runBuild(command: string): Promise<BuildResult> {
  const started = performance.now();
  return new Promise((done) => {
    // Its own process group, so that close() can end the compiler too, not just the shell.
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-OUTPUT_LIMIT); };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => { output += `${err.message}\n`; });
    child.on('close', (code, signal) => {
      if (code !== 0) output += `\n(${command}: ${signal !== null ? `killed by ${signal}` : `exit code ${code}`})`;
      running.delete(child.pid!);
      done({ ok: code === 0, ms: performance.now() - started, output });
    });
    if (child.pid !== undefined) running.add(child.pid);
  });
}

/**
 * An ERR_BUILD_FAILED error with the build's output in `details.output`.
 *
 * @example
 * const result = await runBuild('make'); if (!result.ok) host.reportError(buildFailed('make', result));
 */
export function buildFailed(command: string, result: BuildResult): IsoswapError {
  return new IsoswapError('ERR_BUILD_FAILED', `build failed: ${command}`, { command, output: result.output });
}

/**
 * Watches a source folder and runs the build command after each change: one build at a
 * time, and the changes made while it runs are one more build after it. chokidar's
 * swallowed second change is found by a {@link TrailingCheck}.
 */
export class BuildWatcher {
  #building: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #trailing = new TrailingCheck(() => this.#schedule());

  private constructor(private readonly opts: BuildWatcherOptions, private readonly chokidar: FSWatcher) {}

  /**
   * Starts watching `src`; resolves once chokidar is ready (it reports nothing before).
   *
   * @example
   * const w = await BuildWatcher.start({ command: 'make', src: 'src', library, onBuild });
   */
  static async start(opts: BuildWatcherOptions): Promise<BuildWatcher> {
    const library = resolve(opts.library);
    const chokidar = watch(resolve(opts.src), {
      ignoreInitial: true,
      ignored: (path: string) => path === library || IGNORED_FILE.test(basename(path)) || path.split(sep).some((p) => IGNORED_DIRS.has(p)),
    });
    const watcher = new BuildWatcher(opts, chokidar);
    chokidar.on('all', (_event, path) => {
      watcher.#trailing.seen(path); // an edit saved twice within 50 ms is reported once
      watcher.#schedule();
    });
    await new Promise<void>((ready) => chokidar.once('ready', () => ready()));
    return watcher;
  }

  /**
   * Runs the build now (or once more after the one running).
   *
   * @example
   * await watcher.build(); // what onBuild was told is the latest build's result
   */
  build(): Promise<void> {
    if (this.#building !== null) {
      this.#again = true;
      return this.#building;
    }
    this.#building = (async () => {
      do {
        this.#again = false;
        const result = await runBuild(this.opts.command);
        if (!this.#closed) this.opts.onBuild(result);
      } while (this.#again && !this.#closed);
    })().finally(() => { this.#building = null; });
    return this.#building;
  }

  /**
   * Stops watching and ends a build still running (its whole process group).
   *
   * @example
   * await watcher.close();
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#trailing.close();
    await this.chokidar.close();
    for (const pid of running) {
      try { process.kill(-pid, 'SIGTERM'); } catch { /* already gone */ }
    }
    await this.#building;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.build();
    }, COALESCE_MS);
  }
}
