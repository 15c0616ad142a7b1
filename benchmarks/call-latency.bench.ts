// One call at a time, p50/p99 in µs: `await host.call` and `host.callSync` on the fast
// channel (int32, and a string argument + string result), `await host.call` on the message
// path (a BigInt argument; the string call with its argument as a Buffer), beside what the same native call costs
// in process (koffi), over a plain postMessage round trip, and as a piscina run().
import koffi from 'koffi';
import { Piscina } from 'piscina';
import { createIsolatedHost } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { BASELINE_WORKER, echoWorker, r3, roundTrip, sampleSyncUs, sampleUs, SHOUT_ARG, SHOUT_ARG_BUFFER, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';

const N = 20_000;
const WARM = 2_000;

const { library, copy } = await tickLibrary();
const figures: Record<string, number> = {};
const put = (name: string, samples: number[]): void => {
  figures[`${name}P50Us`] = r3(percentile(samples, 50));
  figures[`${name}P99Us`] = r3(percentile(samples, 99));
};

// In process: a batch of calls timed as one (a single call is shorter than the clock read).
const tick = koffi.load(copy).func('int32_t do_tick(int32_t)') as (x: number) => number;
const BATCH = 1000;
put('directKoffi', await sampleUs(2_000, 200, () => { for (let i = 0; i < BATCH; i++) tick(i); }));
figures['directKoffiP50Us'] = r3(figures['directKoffiP50Us']! / BATCH);
figures['directKoffiP99Us'] = r3(figures['directKoffiP99Us']! / BATCH);

const echo = await echoWorker(library);
put('postMessage', await sampleUs(N / 4, WARM, (i) => roundTrip(echo, i)));
await echo.terminate();

const pool = new Piscina({ filename: BASELINE_WORKER.href, minThreads: 1, maxThreads: 1, workerData: { library } });
put('piscinaRun', await sampleUs(N / 4, WARM, (i) => pool.run(i)));
await pool.destroy();

const host = await createIsolatedHost({ library, functions: TICK });
try {
  put('hostCall', await sampleUs(N, WARM, (i) => host.call('do_tick', i)));
  put('hostCallSync', sampleSyncUs(N, WARM, (i) => host.callSync('do_tick', i)));
  put('hostCallMessagePath', await sampleUs(N / 4, WARM, (i) => host.call('do_tick_big', BigInt(i))));
  put('hostCallString', await sampleUs(N, WARM, () => host.call('shout', SHOUT_ARG)));
  put('hostCallSyncString', sampleSyncUs(N, WARM, () => host.callSync('shout', SHOUT_ARG)));
  put('hostCallStringMessagePath', await sampleUs(N / 4, WARM, () => host.call('shout', SHOUT_ARG_BUFFER)));
} finally {
  await host.close();
  await removeTempDirs();
}

report('call-latency', {
  ...figures,
  hostCallVsPostMessage: r3(figures['postMessageP50Us']! / figures['hostCallP50Us']!),
  hostCallVsPiscina: r3(figures['piscinaRunP50Us']! / figures['hostCallP50Us']!),
  hostCallSyncVsPostMessage: r3(figures['postMessageP50Us']! / figures['hostCallSyncP50Us']!),
  hostCallSyncVsDirectKoffi: r3(figures['hostCallSyncP50Us']! / figures['directKoffiP50Us']),
  hostCallStringVsMessagePath: r3(figures['hostCallStringMessagePathP50Us']! / figures['hostCallStringP50Us']!),
  hostCallStringVsInt32: r3(figures['hostCallStringP50Us']! / figures['hostCallP50Us']!),
  targets: 'hostCallP50Us <= 5, hostCallSyncP50Us <= 2, hostCallStringP50Us <= 5',
});
