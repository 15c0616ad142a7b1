import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { IsoswapError } from '../errors.js';
import { createFleet } from '../fleet/create-fleet.js';
import type { FleetSwapResult } from '../fleet/fleet-events.js';
import { LibraryWatcher } from '../watch/watcher.js';
import { BuildWatcher, buildFailed } from './build-watcher.js';
import type { Reporter } from './reporter.js';
import type { RunOptions } from './run-options.js';

/** How long a worker may take to close its host once disconnected before it is killed. */
const WORKER_CLOSE_MS = 10_000;

/**
 * `isoswap run --cluster N` in the primary: N workers run `isoswap run` as fleet members
 * (each calls and reports as one process would), and every new build (`--watch`,
 * `--build`) is one fleet swap: prepared in every worker, then served by all or by none.
 * A worker that dies is forked again and starts on the committed build. Resolves to the
 * exit code once `stop` aborts (0), or 1 when the fleet cannot start.
 */
export async function runClusterPrimary(opts: RunOptions, reporter: Reporter, stop: AbortSignal): Promise<number> {
  const workers = opts.cluster!;
  const print = (event: Record<string, unknown>, human: string): void => {
    process.stdout.write(opts.json ? `${JSON.stringify(event)}\n` : `${human}\n`);
  };
  let closing = false;
  let builder: BuildWatcher | null = null;
  let watcher: LibraryWatcher | null = null;
  cluster.setupPrimary({ exec: process.argv[1]!, args: process.argv.slice(2) });
  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    if (closing) return;
    reporter.error(new IsoswapError('ERR_VERSION_CRASHED', `worker ${worker.id} exited (${signal ?? `code ${code}`}); a new one starts on the fleet's build`, { worker: worker.id }));
    cluster.fork();
  });
  try {
    if (opts.build !== null) {
      const { command, src, ignore } = opts.build;
      builder = await BuildWatcher.start({
        command, src, ignore, ignoreFiles: [opts.library],
        onBuilding: () => reporter.building(command),
        onBuild: (result) => (result.ok ? reporter.build({ command, ms: result.ms }) : reporter.error(buildFailed(command, result))),
      });
      await builder.build(); // the fleet starts on what the sources say now
    }
    const joined = createFleet({ transport: 'cluster', library: opts.library, members: workers, joinTimeoutMs: 120_000 });
    for (let i = 0; i < workers; i++) cluster.fork();
    const fleet = await joined;
    print({ event: 'fleet', members: workers, sha256: fleet.sha256 }, `fleet: ${workers} workers serve ${fleet.sha256.slice(0, 12)}`);
    fleet.on('swap', (result: FleetSwapResult) => print({ event: 'fleet-swap', sha256: result.sha256, members: result.members.length, skewMs: result.skewMs },
      `fleet: all ${result.members.length} workers serve ${result.sha256.slice(0, 12)} (skew ${result.skewMs.toFixed(1)} ms)`));
    fleet.on('error', (error) => reporter.error(error));
    if (opts.watch || opts.build !== null) {
      watcher = await LibraryWatcher.start({ library: opts.library, currentSha256: () => fleet.sha256, swap: () => fleet.swap(), onError: (error) => reporter.error(error) });
    }
    if (!stop.aborted) await once(stop, 'abort');
    await watcher?.close();
    await fleet.close();
    return 0;
  } catch (err) {
    reporter.error(IsoswapError.from(err, 'ERR_FLEET_JOIN', `isoswap run --cluster ${workers}`));
    return 1;
  } finally {
    closing = true;
    await watcher?.close();
    await builder?.close();
    await stopWorkers();
  }
}

/** Disconnects every worker (each then closes its host and exits; a Ctrl-C reached them
 *  too, and a second signal would end them at once), SIGKILL past WORKER_CLOSE_MS. */
async function stopWorkers(): Promise<void> {
  await Promise.all(Object.values(cluster.workers ?? {}).map(async (worker) => {
    if (worker === undefined || worker.process.exitCode !== null) return;
    const exited = once(worker, 'exit');
    if (worker.isConnected()) worker.disconnect();
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), WORKER_CLOSE_MS);
    await exited;
    clearTimeout(timer);
  }));
}
