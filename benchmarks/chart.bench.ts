// The chart of docs/performance.md, measured and drawn in one run: call latency (p50, one
// call at a time) by path and isolation, and reload() latency (p50) by the gap between
// reloads (0: back to back, the standby still starting). Writes docs/performance.svg with
// vega-lite (compiled to a vega spec, rendered headless: no canvas, no browser) and prints
// the figures as a JSON line.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { createIsolatedHost, type Isolation } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { r3, sampleSyncUs, sampleUs, SHOUT_ARG, SHOUT_ARG_BUFFER, TICK, tickLibrary } from './fixtures.js';
import { percentile, report } from './report.js';

const CALLS = 4_000;
const WARM = 400;
const GAPS_MS = [0, 10, 25, 50, 100, 200];
const RELOADS = 8;
const SVG = fileURLToPath(new URL('../../docs/performance.svg', import.meta.url));

interface CallRow { isolation: Isolation; path: string; p50Us: number }
interface ReloadRow { isolation: Isolation; gapMs: number; p50Ms: number }

const { library } = await tickLibrary();
const p50 = (samples: number[]): number => r3(percentile(samples, 50));
const calls: CallRow[] = [];
const reloads: ReloadRow[] = [];

for (const isolation of ['thread', 'process'] as const) {
  const host = await createIsolatedHost({ library, functions: TICK, isolation });
  try {
    await sleep(200); // the standby started after the first load has booted
    const put = (path: string, samples: number[]): void => { calls.push({ isolation, path, p50Us: p50(samples) }); };
    put('int32, ring, await', await sampleUs(CALLS, WARM, (i) => host.call('do_tick', i)));
    put('int32, ring, callSync', sampleSyncUs(CALLS, WARM, (i) => host.callSync('do_tick', i)));
    put('string, ring, await', await sampleUs(CALLS, WARM, () => host.call('shout', SHOUT_ARG)));
    put('string, message path, await', await sampleUs(CALLS / 4, WARM, () => host.call('shout', SHOUT_ARG_BUFFER)));
    put('string, blocking message path, callSync', sampleSyncUs(CALLS / 4, WARM, () => host.callSync('shout', SHOUT_ARG_BUFFER)));
    for (const gapMs of GAPS_MS) {
      const samples: number[] = [];
      await sleep(300); // every gap starts with a warm standby
      for (let i = 0; i < RELOADS; i++) {
        const t0 = performance.now();
        await host.reload();
        samples.push(performance.now() - t0);
        if (gapMs > 0) await sleep(gapMs);
      }
      reloads.push({ isolation, gapMs, p50Ms: r3(percentile(samples, 50)) });
    }
  } finally {
    await host.close();
  }
}
await removeTempDirs();

const machine = `${process.platform}-${process.arch}, node ${process.version}, load average ${r3(loadavg()[0]!)}`;
const spec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: 'isoswap: call and reload latency (p50, one run)', subtitle: machine },
  hconcat: [
    {
      title: 'one call at a time, by path',
      data: { values: calls },
      width: 260,
      height: 260,
      encoding: {
        y: { field: 'path', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
        yOffset: { field: 'isolation' },
        x: { field: 'p50Us', type: 'quantitative', scale: { type: 'log', domainMin: 0.1 }, title: 'p50 latency (µs, log scale)' },
        color: { field: 'isolation', type: 'nominal', title: 'isolation' },
      },
      layer: [
        { mark: 'bar' },
        { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 }, encoding: { text: { field: 'p50Us', type: 'quantitative' } } },
      ],
    },
    {
      title: 'reload() by gap since the previous one',
      data: { values: reloads },
      mark: { type: 'line', point: true },
      width: 260,
      height: 220,
      encoding: {
        x: { field: 'gapMs', type: 'quantitative', title: 'gap between reloads (ms; 0 = back to back)' },
        y: { field: 'p50Ms', type: 'quantitative', title: 'reload() p50 (ms)' },
        color: { field: 'isolation', type: 'nominal', title: 'isolation' },
      },
    },
  ],
};
const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
writeFileSync(SVG, await view.toSVG());
view.finalize();

const figures: Record<string, number> = {};
for (const { isolation, path, p50Us } of calls) figures[`${isolation} ${path} p50 us`] = p50Us;
for (const { isolation, gapMs, p50Ms } of reloads) figures[`${isolation} reload gap ${gapMs} ms p50 ms`] = p50Ms;
report('chart', { ...figures, loadAvg1: r3(loadavg()[0]!), svg: 'docs/performance.svg' });
