import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { IsoswapError } from '../errors.js';
import { createIsolatedHost } from '../host/create-isolated-host.js';
import type { IsolatedHost } from '../host/isolated-host.js';
import { BuildWatcher, buildFailed, runBuild } from './build-watcher.js';
import { HumanReporter } from './human-reporter.js';
import { JsonReporter } from './json-reporter.js';
import type { Reporter } from './reporter.js';
import { parseRunArgs, RUN_HELP, UsageError, type RunOptions } from './run-options.js';

/** The streams `isoswap run` talks to (tests and embedders may pass their own). */
export interface RunIo {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  input: NodeJS.ReadableStream;
}

const asError = (err: unknown, context: string): IsoswapError => IsoswapError.from(err, 'ERR_INVALID_OPTIONS', context);

/**
 * `isoswap run`: serves a library, calls its functions, swaps in new builds, until SIGINT
 * or SIGTERM. Resolves to the exit code: 0 after a signal, 1 when the first version cannot
 * be served, 2 for a command line that cannot be run.
 *
 * @example
 * process.exitCode = await runCommand(['./libgame.so', '--fn', 'int32_t do_tick(int32_t)', '--every', '100', '--watch']);
 */
export async function runCommand(argv: string[], io: RunIo = { out: process.stdout, err: process.stderr, input: process.stdin }): Promise<number> {
  let opts: RunOptions | null;
  try {
    opts = parseRunArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err.write(`isoswap run: ${err.message}\nRun "isoswap run --help" for the options.\n`);
    return 2;
  }
  if (opts === null) {
    io.out.write(RUN_HELP);
    return 0;
  }
  const reporter: Reporter = opts.json ? new JsonReporter(io.out) : new HumanReporter(io.out, io.err);
  const signalled = waitForSignal();
  if (opts.build !== null) {
    const { command } = opts.build;
    const first = await runBuild(command); // serve what the sources say now, not a stale artifact
    if (first.ok) reporter.build({ command, ms: first.ms });
    else reporter.error(buildFailed(command, first));
  }
  const started = performance.now();
  let host: IsolatedHost;
  try {
    host = await createIsolatedHost({
      library: opts.library,
      functions: opts.functions,
      watch: opts.watch || opts.build !== null,
      isolation: opts.isolation,
    });
  } catch (err) {
    reporter.error(asError(err, `serving ${opts.library}`));
    reporter.close();
    return 1;
  }
  reporter.load(host.current, performance.now() - started);
  const session = new RunSession(host, opts, reporter);
  host.on('swap', (event) => { reporter.swap(event); session.afterSwap(); });
  host.on('retired', (version) => reporter.retired(version));
  host.on('error', (err) => reporter.error(err));
  let builder: BuildWatcher | null = null;
  if (opts.build !== null) {
    const { command, src } = opts.build;
    builder = await BuildWatcher.start({
      command,
      src,
      library: opts.library,
      onBuild: (result) => (result.ok ? reporter.build({ command, ms: result.ms }) : host.reportError(buildFailed(command, result))),
    });
  }
  const lines = opts.onEnter ? createInterface({ input: io.input }) : null;
  lines?.on('line', () => { host.reload().catch((err) => reporter.error(asError(err, 'reload'))); });
  session.start();
  await signalled;
  lines?.close();
  await builder?.close();
  await session.stop();
  await host.close();
  reporter.close();
  return 0;
}

/** The calls `isoswap run` makes: every N ms, or once per version served. */
class RunSession {
  readonly #stop = new AbortController();
  #calls: Promise<void> = Promise.resolve();

  constructor(private readonly host: IsolatedHost, private readonly opts: RunOptions, private readonly reporter: Reporter) {}

  start(): void {
    const every = this.opts.everyMs;
    this.#calls = every === null ? this.#callAll() : this.#callEvery(every);
  }

  afterSwap(): void {
    if (this.opts.everyMs === null) this.#calls = this.#calls.then(() => this.#callAll());
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#calls;
  }

  async #callEvery(ms: number): Promise<void> {
    const { signal } = this.#stop;
    while (!signal.aborted) {
      const started = performance.now();
      await this.#callAll();
      await sleep(Math.max(0, ms - (performance.now() - started)), undefined, { signal }).catch(() => {});
    }
  }

  async #callAll(): Promise<void> {
    for (const fn of Object.keys(this.opts.functions)) {
      if (this.#stop.signal.aborted) return;
      try {
        this.reporter.call(fn, this.opts.args, await this.host.call(fn, ...this.opts.args));
      } catch (err) {
        this.reporter.error(asError(err, `calling ${fn}`));
      }
    }
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
