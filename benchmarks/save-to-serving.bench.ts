// File saved → new version serving, for `watch: true`, beside the usual Node answer in
// the same run: `node --watch` restarting a tiny HTTP server (saved → new response).
// Both sides are timed the same way: from the save to the first answer of the new
// version, asked for every millisecond. Loopback only; every wait is bounded.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createIsolatedHost } from '../src/index.js';
import { buildC, tickSource } from '../test/helpers/native.js';
import { percentile, report } from './report.js';

const SAVES = 30;
const BETWEEN_SAVES_MS = 150; // the old version retires, chokidar's throttle window passes
const GIVE_UP_MS = 5_000;

/** Saves, then asks `served()` every millisecond until it says yes; returns the ms taken. */
async function timeToServe(save: () => Promise<void>, served: () => Promise<boolean>): Promise<number> {
  await save();
  const saved = performance.now();
  while (!(await served())) {
    if (performance.now() - saved > GIVE_UP_MS) throw new Error(`not served within ${GIVE_UP_MS} ms`);
    await sleep(1);
  }
  return performance.now() - saved;
}

async function isoswapSamples(dir: string): Promise<{ served: number[]; swapEvent: number[] }> {
  const library = join(dir, 'libtick.so');
  await buildC(tickSource(0), library);
  const builds: string[] = [];
  for (let k = 1; k <= SAVES; k++) builds.push(await buildC(tickSource(k), join(dir, `build-${k}.so`)));
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' }, watch: true });
  const served: number[] = [];
  const swapEvent: number[] = [];
  try {
    for (let k = 1; k <= SAVES; k++) {
      let savedAt = 0;
      const swapped = new Promise<void>((resolve) => host.once('swap', () => { swapEvent.push(performance.now() - savedAt); resolve(); }));
      served.push(await timeToServe(async () => {
        // The copy makes the file as fresh as a linker's output: the settle check waits for it.
        await copyFile(builds[k - 1]!, `${library}.tmp`);
        await rename(`${library}.tmp`, library);
        savedAt = performance.now();
      }, async () => (await host.call('do_tick', 0)) === k));
      await swapped;
      await sleep(BETWEEN_SAVES_MS);
    }
  } finally {
    await host.close();
  }
  return { served, swapEvent };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

function fetchBody(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: 1_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); }).on('end', () => resolve(body)).on('error', () => resolve(null));
    });
    req.on('error', () => resolve(null)).on('timeout', () => { req.destroy(); resolve(null); });
  });
}

async function nodeWatchSamples(dir: string): Promise<number[]> {
  const port = await freePort();
  const script = join(dir, 'server.mjs');
  const source = (v: number): string =>
    `import { createServer } from 'node:http';\ncreateServer((q, s) => s.end('v${v}')).listen(${port}, '127.0.0.1');\n`;
  await writeFile(script, source(0));
  const child = spawn(process.execPath, ['--watch', script], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const samples: number[] = [];
  try {
    await timeToServe(async () => {}, async () => (await fetchBody(port)) === 'v0');
    for (let v = 1; v <= SAVES; v++) {
      samples.push(await timeToServe(() => writeFile(script, source(v)), async () => (await fetchBody(port)) === `v${v}`));
      await sleep(BETWEEN_SAVES_MS);
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return samples;
}

const dir = await mkdtemp(join(tmpdir(), 'isoswap-bench-'));
try {
  const { served, swapEvent } = await isoswapSamples(dir);
  const nodeWatch = await nodeWatchSamples(dir);
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  const isoswapP50 = percentile(served, 50);
  const nodeWatchP50 = percentile(nodeWatch, 50);
  report('save-to-serving', {
    saves: SAVES,
    isoswap_p50_ms: round(isoswapP50),
    isoswap_p90_ms: round(percentile(served, 90)),
    isoswap_swap_event_p50_ms: round(percentile(swapEvent, 50)),
    node_watch_p50_ms: round(nodeWatchP50),
    node_watch_p90_ms: round(percentile(nodeWatch, 90)),
    node_watch_over_isoswap_p50: round(nodeWatchP50 / isoswapP50),
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
