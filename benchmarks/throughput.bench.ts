// int32 calls per second with many calls in flight: `host.call` on the fast channel
// (batches of calls made in one turn) and on the message path, the same for a call with a
// string argument and result, beside a plain postMessage
// worker with the same calls in flight, and the same native call made in process.
import koffi from 'koffi';
import { loadavg } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { createIsolatedHost } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { echoWorker, r3, SHOUT_ARG, SHOUT_ARG_BUFFER, TICK, tickLibrary } from './fixtures.js';
import { report } from './report.js';

const BATCH = 1024;
const CALLS = 1_000_000;

/** Calls per second of `batch` (which makes `BATCH` calls and resolves when all answered),
 *  the best of three runs of `calls` calls (the machine is shared: the best is the least disturbed). */
async function rate(calls: number, batch: () => Promise<unknown>): Promise<number> {
  await batch();
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const t = performance.now();
    for (let done = 0; done < calls; done += BATCH) await batch();
    best = Math.max(best, calls / ((performance.now() - t) / 1000));
  }
  return best;
}

/** A postMessage host with `BATCH` calls in flight: the worker answers in order. */
function postMessageBatch(worker: Worker): () => Promise<unknown> {
  return () => new Promise((resolve) => {
    let left = BATCH;
    const onMessage = (): void => {
      if (--left === 0) {
        worker.off('message', onMessage);
        resolve(undefined);
      }
    };
    worker.on('message', onMessage);
    for (let i = 0; i < BATCH; i++) worker.postMessage(i);
  });
}

const { library, copy } = await tickLibrary();
const tick = koffi.load(copy).func('int32_t do_tick(int32_t)') as (x: number) => number;
const direct = await rate(CALLS * 10, () => { for (let i = 0; i < BATCH; i++) tick(i); return Promise.resolve(); });

const echo = await echoWorker(library);
const postMessage = await rate(CALLS / 10, postMessageBatch(echo));
await echo.terminate();

const host = await createIsolatedHost({ library, functions: TICK });
let hostCall: number;
let hostCallMessagePath: number;
let hostCallString: number;
let hostCallStringMessagePath: number;
try {
  const args = Array.from({ length: BATCH }, (_, i) => i);
  hostCall = await rate(CALLS, () => Promise.all(args.map((i) => host.call('do_tick', i))));
  const big = args.map((i) => BigInt(i));
  hostCallMessagePath = await rate(CALLS / 10, () => Promise.all(big.map((i) => host.call('do_tick_big', i))));
  hostCallString = await rate(CALLS, () => Promise.all(args.map(() => host.call('shout', SHOUT_ARG))));
  hostCallStringMessagePath = await rate(CALLS / 10, () => Promise.all(args.map(() => host.call('shout', SHOUT_ARG_BUFFER))));
} finally {
  await host.close();
  await removeTempDirs();
}

const mps = (x: number): number => r3(x / 1e6);
report('throughput', {
  callsInFlight: BATCH,
  hostCallMcps: mps(hostCall),
  hostCallMessagePathMcps: mps(hostCallMessagePath),
  hostCallStringMcps: mps(hostCallString),
  hostCallStringMessagePathMcps: mps(hostCallStringMessagePath),
  hostCallStringVsMessagePath: r3(hostCallString / hostCallStringMessagePath),
  postMessageMcps: mps(postMessage),
  directKoffiMcps: mps(direct),
  hostCallVsPostMessage: r3(hostCall / postMessage),
  hostCallVsDirectKoffi: r3(hostCall / direct),
  loadAvg1: r3(loadavg()[0]!),
  target: 'hostCallMcps >= 1.5, hostCallStringMcps >= 0.5',
});
