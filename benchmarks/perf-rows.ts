// The rows of the figure tables (perf-tables.ts): each reads its figures from one bench
// run and prints them beside their baselines from that same run.

/** A figure of the run: `bench` (with `:isolation` or `:members` where a bench prints one
 *  line per each), and its key (dotted into objects: `pause_ms.p50`). */
export type Figures = (bench: string, key: string) => number;
/** One table row: its cells. */
export type Row = (f: Figures) => string[];

/** Three significant digits (whole numbers from 1000 on), as the tables print them. */
export function n(x: number): string {
  if (Math.abs(x) >= 1000) return String(Math.round(x));
  return String(Number(x.toPrecision(3)));
}
const x = (ratio: number): string => `${n(ratio)}×`;
const pair = (a: number, b: number, unit: string): string => `${n(a)} / ${n(b)} ${unit}`;
const range = (f: Figures, bench: string, key: string): string => `${n(f(bench, `${key}.min`))}–${n(f(bench, `${key}.max`))}`;

const bare = (f: Figures, loaded = false): number => f('idle-wake', loaded ? 'loadedBareWaitP50Us' : 'bareWaitP50Us');
const syncTarget = (f: Figures, loaded = false): string => n(1.5 * bare(f, loaded) + 10);
const awaitTarget = (f: Figures, loaded = false): string => n(2 * bare(f, loaded) + 20);
/** The quiet idle-wake figure `thread${key}` / `process${key}` (p50 µs), `baseline`, and
 *  each figure over the bare wake. */
function afterIdle(f: Figures, key: string, baseline: string): string[] {
  const t = f('idle-wake', `thread${key}`);
  const p = f('idle-wake', `process${key}`);
  const b = bare(f);
  return [pair(t, p, 'µs'), baseline, `${x(t / b)} / ${x(p / b)}`];
}

const callAwait: Row = (f) => {
  const call = f('call-latency', 'hostCallP50Us');
  const post = f('call-latency', 'postMessageP50Us');
  const piscina = f('call-latency', 'piscinaRunP50Us');
  return ['`await host.call`, int32, one at a time, p50', `${n(call)} µs`, `\`postMessage\` round trip ${n(post)} µs; piscina \`run()\` ${n(piscina)} µs`,
    `${x(post / call)} / ${x(piscina / call)} faster`];
};
const callSync: Row = (f) => {
  const sync = f('call-latency', 'hostCallSyncP50Us');
  const direct = f('call-latency', 'directKoffiP50Us');
  return ['`host.callSync`, int32, p50', `${n(sync)} µs`, `direct in-process koffi call ${n(direct)} µs`, `${x(sync / direct)} slower`];
};
const strings: Row = (f) => {
  const ring = f('call-latency', 'hostCallStringP50Us');
  const message = f('call-latency', 'hostCallStringMessagePathP50Us');
  return ['string argument + string result, `await host.call`, p50', `${n(ring)} µs`, `the same call on the message path ${n(message)} µs`, `${x(message / ring)} faster`];
};
const throughput: Row = (f) => {
  const host = f('throughput', 'hostCallMcps');
  const post = f('throughput', 'postMessageMcps');
  return ['int32 calls/s, 1024 in flight, thread', `${n(host)} M/s`, `\`postMessage\` worker ${n(post)} M/s`, x(host / post)];
};
const processRing: Row = (f) => {
  const [pc, ps, tc, ts] = ['processCallP50Us', 'processCallSyncP50Us', 'threadCallP50Us', 'threadCallSyncP50Us'].map((k) => f('isolation', k)) as [number, number, number, number];
  return ['process isolation: `await` / `callSync` p50 (ring)', pair(pc, ps, 'µs'),
    `thread ${pair(tc, ts, 'µs')}; the message path ${n(f('isolation', 'processMessageCallP50Us'))} µs`, `${x(pc / tc)} / ${x(ps / ts)} thread`];
};
const underLoad: Row = (f) => {
  const t = f('call-under-load', 'loadedThreadRoundP50Us.median');
  const p = f('call-under-load', 'loadedProcessRoundP50Us.median');
  const post = f('call-under-load', 'loadedPostMessageRoundP50Us.median');
  return ['**under load** (a compile loop per core): `await host.call` one at a time, median of 6 round p50s, thread / process', pair(t, p, 'µs'),
    `\`postMessage\` round trip under the same load ${n(post)} µs`, `${x(t / post)} / ${x(p / post)}`];
};
const quietRounds: Row = (f) => ['quiet: 30 rounds of 10000, every round\'s p50, thread / process',
  `${range(f, 'call-under-load', 'quietThreadRoundP50Us')} / ${range(f, 'call-under-load', 'quietProcessRoundP50Us')} µs (medians ${n(f('call-under-load', 'quietThreadRoundP50Us.median'))} / ${n(f('call-under-load', 'quietProcessRoundP50Us.median'))})`,
  `\`postMessage\` ${n(f('call-under-load', 'quietPostMessageRoundP50Us.median'))} µs`, '—'];
const idleCallSync: Row = (f) => ['**after 16 ms idle**: first `callSync`, p50, thread / process', ...afterIdle(f, 'CallSyncP50Us',
  `a bare \`Atomics.wait\`/\`notify\` wake after the same idle ${n(bare(f))} µs (\`waitAsync\` ${n(f('idle-wake', 'bareWaitAsyncP50Us'))} µs)`)];
const idleAwait: Row = (f) => ['the same, `await host.call`', ...afterIdle(f, 'CallP50Us', 'same')];
const frameSync: Row = (f) => ['a 60 Hz loop\'s first `callSync` of a frame, p50, thread / process', ...afterIdle(f, 'CallSyncFrame60P50Us', 'same')];
const loadedIdle = (isolation: 'Thread' | 'Process'): Row => (f) => {
  const sync = f('idle-wake', `loaded${isolation}CallSyncP50Us`);
  const call = f('idle-wake', `loaded${isolation}CallP50Us`);
  const b = bare(f, true);
  return [isolation === 'Thread' ? '**under load**: first `callSync` / `await` after 16 ms idle, thread' : 'the same, process', pair(sync, call, 'µs'),
    isolation === 'Thread' ? `a bare wake under the same load ${n(b)} µs` : 'same', `${x(sync / b)} / ${x(call / b)}`];
};
const idleCpu = (afterBurst: boolean): Row => (f) => {
  const key = (host: string): string => `${host}Host${afterBurst ? 'AfterBurst' : ''}CpuPercent`;
  const wakeUps = afterBurst ? '' : ` (${n(f('idle-cpu', 'threadHostWakeUpsPerSecond'))} / ${n(f('idle-cpu', 'processHostWakeUpsPerSecond'))} wake-ups a second)`;
  return [afterBurst ? 'the same right after a burst of calls, thread / process' : 'idle host CPU over 5000 ms, thread host / process host (its child included)',
    `${n(f('idle-cpu', key('thread')))} % / ${n(f('idle-cpu', key('process')))} %${wakeUps}`,
    afterBurst ? 'same' : `this process with no host ${n(f('idle-cpu', 'noHostCpuPercent'))} %`, '—'];
};
const addonNumber: Row = (f) => {
  const [t, p, tl, pl] = ['threadNumberP50Us', 'processNumberP50Us', 'threadLibraryRingP50Us', 'processLibraryRingP50Us'].map((k) => f('addon-ring', k)) as [number, number, number, number];
  return ['addon export, number argument, `await`, p50, thread / process (the ring)', pair(t, p, 'µs'),
    `a library function on the ring ${pair(tl, pl, 'µs')}; direct ${n(f('addon-ring', 'directNumberP50Us'))} µs`, `${x(t / tl)} / ${x(p / pl)} the library`];
};
const addonBuffer: Row = (f) => ['addon export, 16-byte Buffer, `await`, p50, thread / process',
  pair(f('addon-ring', 'threadBufferP50Us'), f('addon-ring', 'processBufferP50Us'), 'µs'), `direct ${n(f('addon-ring', 'directBufferP50Us'))} µs`, '—'];
const loadedAddon = (isolation: 'Thread' | 'Process'): Row => (f) => [
  isolation === 'Thread' ? '**under load**: addon export, number / 16-byte Buffer, `await`, p50, thread' : 'the same, process',
  pair(f('addon-ring', `loaded${isolation}NumberP50Us`), f('addon-ring', `loaded${isolation}BufferP50Us`), 'µs'),
  `the library ring ${n(f('addon-ring', `loaded${isolation}LibraryRingP50Us`))} µs${isolation === 'Thread' ? `; \`postMessage\` ${n(f('addon-ring', 'loadedPostMessageP50Us'))} µs (same load)` : ''}`, '—'];
const frames60 = (loaded: boolean): Row => (f) => {
  const worst = loaded ? 'loadedWorstFrameMs' : 'worstFrameMs';
  const base = loaded ? 'loadedBaselineWorstFrameMs' : 'baselineWorstFrameMs';
  return [loaded ? '**under load**: the same, thread / process' : 'worst frame of a 60 Hz `callSync` loop through 10 swaps, thread / process',
    pair(f('frame-budget-60hz:thread', worst), f('frame-budget-60hz:process', worst), 'ms'),
    `the same loop without swaps${loaded ? ', same load' : ''} ${pair(f('frame-budget-60hz:thread', base), f('frame-budget-60hz:process', base), 'ms')}`, '—'];
};
const unpacedFrames: Row = (f) => {
  const lost = f('frame-budget:thread', 'framesLostOrRepeated') + f('frame-budget:process', 'framesLostOrRepeated');
  return ['worst frame of an unpaced `callSync` loop through 20 watched saves, thread / process',
    `${pair(f('frame-budget:thread', 'worstFrameMs'), f('frame-budget:process', 'worstFrameMs'), 'ms')} (${lost === 0 ? 'none' : n(lost)} lost or repeated)`,
    `without saves ${pair(f('frame-budget:thread', 'baselineWorstFrameMs'), f('frame-budget:process', 'baselineWorstFrameMs'), 'ms')}`, '—'];
};
const reloadWarm: Row = (f) => ['`reload()` with the standby warm, p50', `${n(f('reload', 'reloadWarmStandbyP50Ms'))} ms`,
  `a new worker + load + first call ${n(f('reload', 'newWorkerLoadFirstCallP50Ms'))} ms`, '—'];
const reloadBackToBack: Row = (f) => ['`reload()` back to back, p50', `${n(f('reload', 'reloadBackToBackP50Ms'))} ms`,
  `a cold start + a warm reload ${n(f('reload', 'backToBackBoundMs'))} ms`, x(f('reload', 'reloadBackToBackP50Ms') / f('reload', 'backToBackBoundMs'))];
const saveToServing: Row = (f) => ['a save to the new build serving, p50', `${n(f('save-to-serving', 'isoswap_p50_ms'))} ms`,
  `\`node --watch\` restarting ${n(f('save-to-serving', 'node_watch_p50_ms'))} ms`, `${x(f('save-to-serving', 'node_watch_p50_ms') / f('save-to-serving', 'isoswap_p50_ms'))} faster`];
const statePause: Row = (f) => ['state hand-over: calls paused per swap, p50 / max', pair(f('state-pause', 'pause_ms.p50'), f('state-pause', 'pause_ms.max'), 'ms'),
  `the whole swap ${n(f('state-pause', 'swap_ms.p50'))} ms p50`, `${n(f('state-pause', 'pause_ms.p50') / f('state-pause', 'swap_ms.p50'))} of it`];
const devServer: Row = (f) => {
  const ratio = f('dev-server', 'processReqPerSecSwapping') / f('dev-server', 'threadReqPerSecSwapping');
  return ['dev server req/s while 20 rebuilds are saved, process / thread',
    `${n(f('dev-server', 'processReqPerSecSwapping'))} / ${n(f('dev-server', 'threadReqPerSecSwapping'))}`,
    `without swaps ${n(f('dev-server', 'processReqPerSec'))} / ${n(f('dev-server', 'threadReqPerSec'))}`, `${x(ratio)} thread`];
};
const cliOutput: Row = (f) => ['`isoswap run` output, 200 000 lines, thread / process', pair(f('cli-output', 'threadMs'), f('cli-output', 'processMs'), 'ms'),
  `the same lines printed by a plain child ${n(f('cli-output', 'baselineMs'))} ms`,
  `${x(f('cli-output', 'threadMs') / f('cli-output', 'baselineMs'))} / ${x(f('cli-output', 'processMs') / f('cli-output', 'baselineMs'))}`];
const swapRss: Row = (f) => ['RSS growth over 300 swaps', `${n(f('swap-rss', 'growthOverSwapsMB'))} MB`,
  `300 plain workers with koffi ${n(f('swap-rss', 'plainWorkerChurnGrowthMB'))} MB`, x(f('swap-rss', 'growthOverSwapsMB') / f('swap-rss', 'plainWorkerChurnGrowthMB'))];
const ringCodec: Row = (f) => ['ring codec, one int32 / string / Buffer argument, both ends',
  `${n(f('ring-codec', 'int32CodecNs'))} / ${n(f('ring-codec', 'stringCodecNs'))} / ${n(f('ring-codec', 'bufferCodecNs'))} ns`,
  `structured clone ${n(f('ring-codec', 'int32StructuredCloneNs'))} / ${n(f('ring-codec', 'stringStructuredCloneNs'))} / ${n(f('ring-codec', 'bufferStructuredCloneNs'))} ns`, '—'];
const fleetSkew: Row = (f) => ['fleet swap skew (first member serving the new build → last), p50 / max, 4 / 16 `node:cluster` members',
  `${pair(f('fleet-skew:4', 'skewMsP50'), f('fleet-skew:4', 'skewMsMax'), 'ms')}; ${pair(f('fleet-skew:16', 'skewMsP50'), f('fleet-skew:16', 'skewMsMax'), 'ms')}`,
  `the whole fleet swap p50 ${pair(f('fleet-skew:4', 'swapMsP50'), f('fleet-skew:16', 'swapMsP50'), 'ms')}`, '—'];

/** A row with a target column after it. */
const target = (row: Row, text: (f: Figures) => string): Row => (f) => [...row(f), text(f)];
const none = (row: Row): Row => target(row, () => '—');
const fixed = (row: Row, text: string): Row => target(row, () => text);

/** docs/performance.md: every figure, with its target. */
export const PERFORMANCE_ROWS: Row[] = [
  none(callAwait), none(callSync), fixed(strings, '≤ 5 µs'), none(throughput), fixed(processRing, '≤ 5 / ≤ 3 µs'),
  fixed(underLoad, '≤ 1×'), fixed(quietRounds, 'every round ≤ 5 µs'),
  target(idleCallSync, (f) => `≤ 1.5 × bare + 10 µs = ${syncTarget(f)} µs`),
  target(idleAwait, (f) => `≤ 2 × bare + 20 µs = ${awaitTarget(f)} µs`),
  none(frameSync),
  target(loadedIdle('Thread'), (f) => `≤ ${syncTarget(f, true)} / ≤ ${awaitTarget(f, true)} µs (1.5 × bare + 10 / 2 × bare + 20)`),
  fixed(loadedIdle('Process'), 'same'),
  fixed(idleCpu(false), '< 0.1 %'), fixed(idleCpu(true), '< 0.1 %'),
  fixed(addonNumber, '≤ 5 µs'), fixed(addonBuffer, '≤ 5 µs'), fixed(loadedAddon('Thread'), '≤ 5 µs'), fixed(loadedAddon('Process'), '≤ 5 µs'),
  fixed(frames60(false), '≤ 16.7 ms'), none(frames60(true)), none(unpacedFrames),
  fixed(reloadWarm, '≤ 5 ms'), fixed(reloadBackToBack, '≤ 1×'), none(saveToServing), none(statePause),
  fixed(devServer, '≥ 0.8×'), none(cliOutput), none(swapRss), none(ringCodec), none(fleetSkew),
];

/** The README: the figures a new user asks about first (no target column). */
export const README_ROWS: Row[] = [
  callAwait, callSync, throughput, strings, processRing,
  (f) => underLoad(f).map((cell, i) => (i === 0 ? '`await host.call` one at a time while a `gcc` loop runs per core, p50, thread / process' : cell)),
  (f) => idleCallSync(f).map((cell, i) => (i === 0 ? 'first `callSync` after 16 ms idle, p50, thread / process' : cell)),
  addonNumber,
  (f) => {
    const t = f('isolation', 'processStartP50Ms');
    return ['process isolation: start p50 / segfault → serving again p50', `${n(t)} ms / ${n(f('isolation', 'processCrashToServingP50Ms'))} ms`,
      `thread start ${n(f('isolation', 'threadStartP50Ms'))} ms / thread isolation: the whole program dies`, `${x(t / f('isolation', 'threadStartP50Ms'))} / —`];
  },
  reloadWarm, reloadBackToBack, saveToServing, statePause,
  idleCpu(false),
  swapRss, devServer, frames60(false), fleetSkew,
];
