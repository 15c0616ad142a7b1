// `await host.call` one at a time, p50 per round in µs, quiet and while a build runs (one
// C compile loop per core, build-load.ts), both isolations, beside a plain postMessage
// round trip measured in the same rounds, under the same load.
import { createIsolatedHost, type IsolatedHost } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { underBuildLoad } from '../test/helpers/build-load.js';
import { echoWorker, r3, roundTrip, sampleUs, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';

const QUIET_ROUNDS = 30;
const QUIET_CALLS = 10_000;
const LOADED_ROUNDS = 6;
const LOADED_CALLS = 2_000;

const { library } = await tickLibrary();
const echo = await echoWorker(library);
const thread = await createIsolatedHost({ library, functions: TICK });
const child = await createIsolatedHost({ library, functions: TICK, isolation: 'process' });
const paths: Record<string, (i: number) => Promise<unknown>> = {
  postMessage: (i) => roundTrip(echo, i),
  thread: (i) => thread.call('do_tick', i),
  process: (i) => child.call('do_tick', i),
};

/** p50 of each round, per path; the paths take turns round by round. */
async function rounds(n: number, calls: number, names: string[]): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < n; r++) {
    for (const name of names) out[name]!.push(percentile(await sampleUs(calls, 200, paths[name]!), 50));
  }
  return out;
}

const summary = (p50s: number[]): { median: number; min: number; max: number } =>
  ({ median: r3(percentile(p50s, 50)), min: r3(Math.min(...p50s)), max: r3(Math.max(...p50s)) });

async function closeAll(hosts: IsolatedHost<typeof TICK>[]): Promise<void> {
  for (const host of hosts) await host.close();
}

try {
  const quiet = await rounds(QUIET_ROUNDS, QUIET_CALLS, ['thread', 'process']);
  const quietBaseline = await rounds(3, QUIET_CALLS, ['postMessage']);
  const { result: loaded, loops } = await underBuildLoad(() => rounds(LOADED_ROUNDS, LOADED_CALLS, ['postMessage', 'thread', 'process']));
  const q = { thread: summary(quiet['thread']!), process: summary(quiet['process']!), postMessage: summary(quietBaseline['postMessage']!) };
  const l = { thread: summary(loaded['thread']!), process: summary(loaded['process']!), postMessage: summary(loaded['postMessage']!) };
  report('call-under-load', {
    quietRounds: QUIET_ROUNDS, quietCallsPerRound: QUIET_CALLS,
    quietThreadRoundP50Us: q.thread, quietProcessRoundP50Us: q.process, quietPostMessageRoundP50Us: q.postMessage,
    loadLoops: loops, loadedRounds: LOADED_ROUNDS, loadedCallsPerRound: LOADED_CALLS,
    loadedThreadRoundP50Us: l.thread, loadedProcessRoundP50Us: l.process, loadedPostMessageRoundP50Us: l.postMessage,
    loadedThreadVsPostMessage: r3(l.thread.median / l.postMessage.median),
    loadedProcessVsPostMessage: r3(l.process.median / l.postMessage.median),
    targets: 'loaded thread and process median <= loaded postMessage median; every quiet round p50 <= 5',
  });
} finally {
  await closeAll([thread, child]);
  await echo.terminate();
  await removeTempDirs();
}
