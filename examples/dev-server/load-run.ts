// Drives the dev server (server.ts, in its own process) with autocannon on 127.0.0.1:
// first without swaps, then while 50 new builds of its handler are saved, one after the
// other. Shared by load.ts (the command) and benchmarks/dev-server.bench.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rename, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import type { Isolation } from 'isoswap';

const run = promisify(execFile);
const HANDLER_C = fileURLToPath(new URL('../../../examples/dev-server/handler.c', import.meta.url));
const SERVER_JS = fileURLToPath(new URL('./server.js', import.meta.url));

/** What the server serves and how each build of it is made (default: handler.c as a
 *  shared library for server.js; examples/addon-dev-server: a Node-API addon). */
export interface HandlerBuild {
  server: string;
  source: string;
  /** The file name the server is given, e.g. libhandler.so. */
  file: string;
  gccFlags: string[];
}

const LIBRARY_HANDLER: HandlerBuild = { server: SERVER_JS, source: HANDLER_C, file: 'libhandler.so', gccFlags: [] };

export interface LoadOptions {
  isolation: Isolation;
  /** New builds saved during the swap phase. */
  rebuilds: number;
  /** Pause after each swap before the next build is saved. */
  gapMs: number;
  /** Length of the phase without swaps. */
  baselineSeconds: number;
  connections: number;
  /** Save each build with the mtime of its compilation (earlier than the file it
   *  replaces, for builds compiled in parallel) instead of now. */
  keepMtime?: boolean;
  handler?: HandlerBuild;
}

export interface PhaseFigures {
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors + timeouts + non-2xx answers. */
  failed: number;
}

export interface LoadResult {
  isolation: Isolation;
  rebuilds: number;
  swaps: number;
  baseline: PhaseFigures;
  swapping: PhaseFigures;
  /** Failed requests the server counted (native call rejected). */
  serverFailed: number;
  serverExitCode: number | null;
}

/** The handler built with -DBUILD=n to `out`, via a side file renamed into place by `save`. */
async function compile(n: number, dir: string, handler: HandlerBuild): Promise<{ file: string; sha256: string }> {
  const file = join(dir, `build-${n}-${handler.file}`);
  await run('gcc', ['-shared', '-fPIC', '-O2', ...handler.gccFlags, `-DBUILD=${n}`, '-o', file, handler.source]);
  return { file, sha256: createHash('sha256').update(await readFile(file)).digest('hex') };
}

/** The server process and the JSON lines it prints. */
class ServerProcess {
  readonly events: Array<Record<string, unknown>> = [];
  readonly #waiters = new Set<() => void>();
  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try { this.events.push(JSON.parse(line) as Record<string, unknown>); } catch { return; }
      for (const wake of this.#waiters) wake();
    });
  }

  /** The first event that `match` accepts, waiting up to `ms`. */
  async next(match: (e: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>> {
    const until = Date.now() + ms;
    for (;;) {
      const found = this.events.find(match);
      if (found !== undefined) return found;
      if (Date.now() > until || this.child.exitCode !== null) {
        throw new Error(`dev server: no ${what} within ${ms} ms; its last lines: ${this.events.slice(-3).map((e) => JSON.stringify(e)).join(' ')}`);
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => { this.#waiters.delete(wake); clearTimeout(timer); resolve(); };
        const timer = setTimeout(wake, 50);
        this.#waiters.add(wake);
      });
    }
  }
}

function figures(result: autocannon.Result, seconds: number): PhaseFigures {
  return {
    seconds: Math.round(seconds * 10) / 10,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.total / seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failed: result.errors + result.timeouts + result.non2xx,
  };
}

const requests = [{ path: '/' }, { path: '/users' }, { path: '/items' }];

/**
 * Runs the server, a phase without swaps, then a phase with `rebuilds` saves, and stops
 * the server (SIGINT: it closes its host and exits 0).
 *
 * @example
 * const r = await runDevServerLoad({ isolation: 'thread', rebuilds: 50, gapMs: 100, baselineSeconds: 8, connections: 10 });
 */
export async function runDevServerLoad(options: LoadOptions): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'isoswap-dev-server-'));
  try {
    const handler = options.handler ?? LIBRARY_HANDLER;
    const library = join(dir, handler.file);
    // Compiled ahead, two at a time (two cores): the swap phase then measures swaps, not gcc.
    const builds: Array<{ file: string; sha256: string }> = [];
    for (let n = 1; n <= options.rebuilds + 1; n += 2) {
      builds.push(...await Promise.all([n, n + 1].filter((k) => k <= options.rebuilds + 1).map((k) => compile(k, dir, handler))));
    }
    await rename(builds[0]!.file, library);

    const server = new ServerProcess(spawn(process.execPath, [handler.server, library, '--isolation', options.isolation], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const exited = once(server.child, 'exit');
    try {
      const { port } = await server.next((e) => e['event'] === 'listening', 30_000, 'listening line') as { port: number };
      const url = `http://127.0.0.1:${port}`;
      const { connections } = options;

      const baseline = await autocannon({ url, connections, requests, duration: options.baselineSeconds });

      const started = performance.now();
      let load!: autocannon.Instance;
      const loaded = new Promise<autocannon.Result>((resolve, reject) => {
        // Stopped below once every build served; 300 s is the bound.
        load = autocannon({ url, connections, requests, duration: 300 }, (err, result) => (err ? reject(err) : resolve(result)));
      });
      let swaps = 0;
      for (const build of builds.slice(1)) {
        const now = new Date();
        if (options.keepMtime !== true) await utimes(build.file, now, now); // written just now, as a linker's output is
        await rename(build.file, library); // a linker's last step: the complete file appears at once
        await server.next((e) => e['event'] === 'swap' && e['sha256'] === build.sha256, 15_000, `swap to ${build.file}`);
        swaps++;
        await sleep(options.gapMs);
      }
      load.stop();
      const swapping = await loaded;
      const swapSeconds = (performance.now() - started) / 1000;

      server.child.kill('SIGINT');
      const closed = await server.next((e) => e['event'] === 'closed', 30_000, 'closed line');
      const [code] = await exited as [number | null];
      return {
        isolation: options.isolation,
        rebuilds: options.rebuilds,
        swaps,
        baseline: figures(baseline, options.baselineSeconds),
        swapping: figures(swapping, swapSeconds),
        serverFailed: Number(closed['failed']),
        serverExitCode: code,
      };
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
