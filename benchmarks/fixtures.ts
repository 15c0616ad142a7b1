// Native fixtures and baselines shared by the benchmarks.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildC, makeTempDir, tickSource } from '../test/helpers/native.js';

export const TICK = {
  do_tick: 'int32_t do_tick(int32_t)', do_tick_big: 'int32_t do_tick_big(int64_t)', shout: 'const char *shout(const char *)',
};
/** A short string argument for `shout`, and the same bytes as a Buffer: koffi takes both for
 *  a `const char *`, but the ring carries only a string, so the Buffer takes the message path. */
export const SHOUT_ARG = 'hello, ring';
export const SHOUT_ARG_BUFFER = Buffer.from(`${SHOUT_ARG}\0`);
export const BASELINE_WORKER = new URL('./baseline-workers.js', import.meta.url);

/** A tick library (`do_tick(x) = x + k`; `do_tick_big` takes an int64; `shout(s)` returns
 *  s in capitals) at a fresh path, and a private copy of it for in-process loads. */
export async function tickLibrary(k = 1): Promise<{ library: string; copy: string; dir: string }> {
  const dir = await makeTempDir('isoswap-bench-');
  const library = await buildC(tickSource(k, `int32_t do_tick_big(int64_t x) { return (int32_t)x + ${k}; }
#include <ctype.h>
const char *shout(const char *s) { static char b[256]; int i = 0; for (; s[i] && i < 255; i++) b[i] = (char)toupper((unsigned char)s[i]); b[i] = 0; return b; }`), join(dir, 'libtick.so'));
  const copy = join(dir, 'copy-libtick.so');
  await copyFile(library, copy);
  return { library, copy, dir };
}

/** A plain worker answering each message with do_tick(message), once it is ready. */
export async function echoWorker(library: string): Promise<Worker> {
  const worker = new Worker(BASELINE_WORKER, { workerData: { library, echo: true } });
  await new Promise((resolve) => worker.once('message', resolve));
  return worker;
}

/** One postMessage round trip to an {@link echoWorker}. */
export function roundTrip(worker: Worker, x: number): Promise<number> {
  return new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(x);
  });
}

/** Samples `fn` (awaited) `n` times after `warm` unmeasured runs; returns µs per run. */
export async function sampleUs(n: number, warm: number, fn: (i: number) => unknown): Promise<number[]> {
  for (let i = 0; i < warm; i++) await fn(i);
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  return samples;
}

/** Like {@link sampleUs}, for a synchronous `fn` (no await between samples). */
export function sampleSyncUs(n: number, warm: number, fn: (i: number) => unknown): number[] {
  for (let i = 0; i < warm; i++) fn(i);
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  return samples;
}

/** Rounds for a JSON line: 3 significant digits. */
export const r3 = (x: number): number => Number(x.toPrecision(3));
