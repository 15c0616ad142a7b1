import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { IsoswapError } from '../errors.js';
import { createIsolatedHost } from '../host/create-isolated-host.js';
import type { IsolatedHost } from '../host/isolated-host.js';
import type { IsolatedHostOptions } from '../options.js';
import { findLibrary } from '../library/discovery.js';
import { fileStamp } from '../watch/settle.js';
import { BuildWatcher, buildFailed } from './build-watcher.js';
import { HumanReporter } from './human-reporter.js';
import { JsonReporter } from './json-reporter.js';
import { OutputCapture } from './output-capture.js';
import type { Reporter } from './reporter.js';
import { headerLookup } from './header-lookup.js';
import { parseRunArgs, RUN_HELP, UsageError, type RunOptions } from './run-options.js';
import { RunSession } from './run-session.js';
import { runClusterPrimary } from './cluster-run.js';

/** How often a library that cannot be served yet (with --watch) is looked at again. */
const LIBRARY_POLL_MS = 200;

const asError = (err: unknown, context: string): IsoswapError => IsoswapError.from(err, 'ERR_INVALID_OPTIONS', context);

/**
 * `isoswap run`: serves a library, calls its functions, swaps in new builds, until SIGINT
 * or SIGTERM. Resolves to the exit code: 0 after a signal, 1 when the first version cannot
 * be served (and neither --watch nor --build waits for another), 2 for a command line
 * that cannot be run. What the library prints is captured and reported as its lines.
 */
export async function runCommand(argv: string[]): Promise<number> {
  let opts: RunOptions | null;
  try {
    opts = parseRunArgs(argv, await headerLookup(argv));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`isoswap run: ${err.message}\nRun "isoswap run --help" for the options.\n`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  // --cluster: the primary coordinates; each worker serves as a fleet member, swapped by it.
  if (opts.cluster !== null && cluster.isWorker) opts = { ...opts, watch: false, build: null };
  if (opts.cluster !== null && cluster.isPrimary) return clusterPrimary(opts); // loads no library: nothing to capture
  const capture = await OutputCapture.start();
  const out = capture?.out ?? process.stdout;
  const err = capture?.err ?? process.stderr;
  const reporter: Reporter = opts.json ? new JsonReporter(out) : new HumanReporter(out, err);
  capture?.listen((stream, lines) => {
    out.cork();
    for (const line of lines) reporter.output(stream, line);
    process.nextTick(() => out.uncork());
  });
  const stop = new AbortController();
  void waitForSignal().then(() => stop.abort());
  // A --cluster worker ends with its primary (which disconnects it to stop it).
  if (opts.cluster !== null) process.once('disconnect', () => stop.abort());
  try {
    return await serve(opts, reporter, capture?.outputFiles ?? [], stop.signal);
  } finally {
    await capture?.stop(); // the library is closed: its last lines come now
    reporter.close();
  }
}

async function clusterPrimary(opts: RunOptions): Promise<number> {
  const reporter: Reporter = opts.json ? new JsonReporter(process.stdout) : new HumanReporter(process.stdout, process.stderr);
  const stop = new AbortController();
  void waitForSignal().then(() => stop.abort());
  try {
    return await runClusterPrimary(opts, reporter, stop.signal);
  } finally {
    reporter.close();
  }
}

async function serve(opts: RunOptions, reporter: Reporter, ownFiles: string[], stop: AbortSignal): Promise<number> {
  const goodBuilds = new Counter();
  let host: IsolatedHost | null = null;
  let builder: BuildWatcher | null = null;
  let session: RunSession | null = null;
  let lines: ReturnType<typeof createInterface> | null = null;
  try {
    if (opts.build !== null) {
      const { command, src, ignore } = opts.build;
      builder = await BuildWatcher.start({
        command, src, ignore,
        ignoreFiles: [opts.library, ...ownFiles],
        onBuilding: () => reporter.building(command),
        onBuild: (result) => {
          if (result.ok) {
            reporter.build({ command, ms: result.ms });
            goodBuilds.add();
          } else if (host !== null) {
            host.reportError(buildFailed(command, result)); // the version serving serves on
          } else {
            reporter.error(buildFailed(command, result));
            reporter.waiting('fix the sources and save: the next build that succeeds is served');
          }
        },
      });
      void builder.build(); // serve what the sources say now, not a stale artifact
    }
    host = await firstHost(opts, reporter, goodBuilds, stop);
    if (host === null) return stop.aborted ? 0 : 1;
    const serving = host;
    session = new RunSession(serving, opts.calls, opts.everyMs, reporter);
    serving.on('swap', (event) => { reporter.swap(event); session!.afterSwap(); });
    serving.on('retired', (version) => reporter.retired(version));
    serving.on('error', (error) => reporter.error(error));
    if (opts.onEnter) {
      lines = createInterface({ input: process.stdin });
      lines.on('line', () => void reloadOnEnter(serving, opts.library, reporter));
    }
    session.start();
    if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
    return 0;
  } finally {
    lines?.close();
    await builder?.close();
    await session?.stop();
    await host?.close();
  }
}

/** The first version served; null after a signal, or when it cannot be served and
 *  nothing (--watch, --build) will bring another. */
async function firstHost(opts: RunOptions, reporter: Reporter, goodBuilds: Counter, stop: AbortSignal): Promise<IsolatedHost | null> {
  let built = 0;
  for (;;) {
    if (opts.build !== null) {
      if (!(await goodBuilds.above(built, stop))) return null;
      built = goodBuilds.count;
    }
    const stamp = await libraryStamp(opts.library);
    const started = performance.now();
    try {
      const host = await createIsolatedHost(hostOptions(opts));
      reporter.load(host.current, performance.now() - started);
      return host;
    } catch (err) {
      reporter.error(asError(err, `serving ${opts.library}`));
      if ((!opts.watch && opts.build === null) || stop.aborted) return null;
      if (opts.build !== null) {
        reporter.waiting(`the next build that can be served at ${opts.library}`);
        continue;
      }
      reporter.waiting(`a new build at ${opts.library}`);
      if (!(await stampChange(opts.library, stamp, stop))) return null;
    }
  }
}

function hostOptions(opts: RunOptions): IsolatedHostOptions {
  return {
    library: opts.library,
    functions: Object.fromEntries(opts.calls.map((c) => [c.name, c.prototype])),
    header: opts.header,
    watch: opts.watch || opts.build !== null,
    fleet: opts.cluster === null ? undefined : { transport: 'cluster' },
    isolation: opts.isolation,
    state: opts.stateBytes === null ? undefined : { bytes: opts.stateBytes },
    callTimeoutMs: opts.callTimeoutMs ?? undefined,
    libraryPath: opts.libraryPath.length === 0 ? undefined : opts.libraryPath,
  };
}

/** Enter: reload, unless the file (`library` may be a glob) holds the very bytes that
 *  serve now. */
async function reloadOnEnter(host: IsolatedHost, library: string, reporter: Reporter): Promise<void> {
  const bytes = await findLibrary(library).then((file) => readFile(file)).catch(() => null);
  if (bytes !== null && createHash('sha256').update(bytes).digest('hex') === host.current.sha256) {
    reporter.unchanged(host.current);
    return;
  }
  await host.reload().catch((err) => reporter.error(asError(err, 'reload')));
}

/** The stamp of the file `library` names (a path, or a glob with one match); null while
 *  there is none. */
function libraryStamp(library: string): Promise<string | null> {
  return findLibrary(library).then((file) => fileStamp(file)).catch(() => null);
}

/** Resolves true once the stamp of the file `library` names differs from `stamp`, false
 *  when `stop` aborts. */
async function stampChange(library: string, stamp: string | null, stop: AbortSignal): Promise<boolean> {
  while (!stop.aborted) {
    if ((await libraryStamp(library)) !== stamp) return true;
    await sleep(LIBRARY_POLL_MS, undefined, { signal: stop }).catch(() => {});
  }
  return false;
}

/** Counts events (good builds) and lets one wait for the next. */
class Counter {
  count = 0;
  #waiters: Array<() => void> = [];

  add(): void {
    this.count++;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves true once the count is above `seen`, false when `stop` aborts first. */
  async above(seen: number, stop: AbortSignal): Promise<boolean> {
    while (this.count <= seen) {
      if (stop.aborted) return false;
      await new Promise<void>((wake) => {
        const aborted = (): void => wake();
        this.#waiters.push(() => { stop.removeEventListener('abort', aborted); wake(); });
        stop.addEventListener('abort', aborted, { once: true });
      });
    }
    return true;
  }
}

/** Resolves at the first SIGINT or SIGTERM; a second one ends the process at once. */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', first).off('SIGTERM', first);
      process.once('SIGINT', () => process.exit(130)).once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', first).on('SIGTERM', first);
  });
}
