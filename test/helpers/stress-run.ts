// Rapid swaps under busy callers, shared by `npm run stress` (1000 swaps) and
// test/stress.test.ts (~100). Every build is distinct (a patched constant, so its sha
// differs), counts its executions natively, and tags every result with its build id.
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createIsolatedHost, type IsolatedHost, type Isolation } from '../../src/index.js';
import { COPY_PREFIX } from '../../src/library/copy-place.js';
import { buildC, makeTempDir, mappedFiles } from './native.js';

export interface StressOptions {
  swaps: number;
  callers?: number;
  isolation?: Isolation;
  threads?: number;
  /** Start the next swap as soon as reload() resolves, while the version it replaced may
   *  still be retiring: then a third copy (that one) can be mapped for a moment. Default
   *  false: each swap waits for the previous version's `retired` event first. */
  overlap?: boolean;
}

export interface StressResult {
  figures: Record<string, number | string>;
  /** Every broken promise, in words; empty when the run is clean. */
  problems: string[];
}

/** Eight bytes the compiler keeps as they are; the first four are overwritten per build. */
const TAG = Buffer.from([0x00, 0x1d, 0xed, 0x5e, 0xd5, 0xee, 0xd5, 0xb1]);
const BUILD_BITS = 20; // result = build << 20 | seq: builds < 2048, calls per version < 2^20
const MAX_BUILD = 2047;

function stressSource(countDir: string): string {
  return `#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
/* volatile: read from .rodata at every call, so patching these bytes in the file changes the build */
volatile const uint32_t build_tag[2] = { 0x5eed1d00u, 0xb1d5eed5u };
static atomic_int executed;
int32_t work(int32_t caller) {
  (void)caller;
  int32_t seq = atomic_fetch_add(&executed, 1) + 1;
  return (int32_t)((build_tag[0] << ${BUILD_BITS}) | (uint32_t)seq);
}
/* The count must outlive the version: written where the stress reads it after retirement. */
void isoswap_unload(void *state, uint32_t bytes) {
  (void)state; (void)bytes;
  char path[4096];
  snprintf(path, sizeof path, "%s/count-%u", ${JSON.stringify(countDir)}, build_tag[0]);
  FILE *f = fopen(path, "w");
  if (f) { fprintf(f, "%d\\n", atomic_load(&executed)); fclose(f); }
}
`;
}

/** Compiles the fixture once; `build(n)` is its bytes with build id n (a distinct sha each). */
async function makeBuilds(dir: string, countDir: string): Promise<(n: number) => Buffer> {
  const base = await readFile(await buildC(stressSource(countDir), join(dir, 'base.so')));
  const at = base.indexOf(TAG);
  if (at < 0 || base.indexOf(TAG, at + 1) >= 0) throw new Error('stress fixture: build tag not found exactly once');
  return (n) => {
    const bytes = Buffer.from(base);
    bytes.writeUInt32LE(n, at);
    return bytes;
  };
}

/** The sequence numbers one build returned, as a growing bitmap (millions of calls). */
class SeqSet {
  #bits = new Uint8Array(256);
  size = 0;
  /** False if `seq` was already there. */
  add(seq: number): boolean {
    while (seq >> 3 >= this.#bits.length) {
      const grown = new Uint8Array(this.#bits.length * 2);
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (seq & 7);
    if ((this.#bits[seq >> 3]! & mask) !== 0) return false;
    this.#bits[seq >> 3]! |= mask;
    this.size++;
    return true;
  }
}

// Memory is measured after a full collection, so that growth means memory kept, not
// garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const memory = (): NodeJS.MemoryUsage => { gc(); return process.memoryUsage(); };

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const taskCount = async (): Promise<number> => (await readdir('/proc/self/task')).length;

/** The pids of this process's children (process isolation: one per version). */
async function childPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const task of await readdir('/proc/self/task')) {
    const text = await readFile(`/proc/self/task/${task}/children`, 'utf8').catch(() => '');
    for (const pid of text.split(' ')) if (pid.trim() !== '') pids.push(Number(pid));
  }
  return pids;
}

/** Files whose path starts with `prefix` mapped by this process and each of its children. */
async function copiesMapped(prefix: string): Promise<number> {
  let mapped = await mappedFiles(prefix);
  for (const pid of await childPids()) mapped += await mappedFiles(prefix, pid).catch(() => 0); // it may just have exited
  return mapped;
}
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Polls until `probe` returns at most `target` or `ms` pass; returns the last value. */
async function settle(probe: () => Promise<number>, target: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let value = await probe();
  while (value > target && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    value = await probe();
  }
  return value;
}

/**
 * Swaps `swaps` distinct builds in under `callers` busy callers and checks every promise
 * the host makes: no call lost or run twice (native counts), none served by a version
 * older than the one current when it was made, at most 2 copies mapped while serving,
 * and after close no copy mapped or on disk and no worker left.
 *
 * @example
 * const { figures, problems } = await runStress({ swaps: 100 });
 * if (problems.length > 0) throw new Error(problems.join('\n'));
 */
export async function runStress(options: StressOptions): Promise<StressResult> {
  const { swaps, callers = 4, isolation = 'thread', threads = 1, overlap = false } = options;
  if (swaps + 1 > MAX_BUILD) throw new RangeError(`at most ${MAX_BUILD - 1} swaps`);
  const dir = await makeTempDir('isoswap-stress-');
  const countDir = await makeTempDir('isoswap-stress-counts-');
  const tempDir = await makeTempDir('isoswap-stress-copies-');
  const build = await makeBuilds(dir, countDir);
  const library = join(dir, 'libstress.so');
  const buildOfSha = new Map<string, number>();
  const install = async (n: number): Promise<string> => {
    const bytes = build(n);
    buildOfSha.set(sha256(bytes), n);
    await writeFile(`${library}.tmp`, bytes);
    await rename(`${library}.tmp`, library); // as a linker does: never a half-written file
    return sha256(bytes);
  };
  await install(1);

  const problems: string[] = [];
  const baselineTasks = await taskCount();
  const host: IsolatedHost = await createIsolatedHost({
    library, functions: { work: 'int32_t work(int32_t)' }, isolation, threads, tempDir,
  });
  // Where the host put its copies: beside the library (the temp dir is its fallback).
  const copiesDir = dirname(host.current.copy);
  const copies = join(copiesDir, COPY_PREFIX);
  const start = memory();
  const rssStart = start.rss;
  let rssPeak = rssStart;
  let maxMapped = 0;
  const buildNow = (): number => buildOfSha.get(host.current.sha256) ?? -1;

  const seqs = new Map<number, SeqSet>();
  let made = 0;
  let served = 0;
  let stale = 0;
  let failed = 0;
  let running = true;
  const caller = async (c: number): Promise<void> => {
    while (running) {
      const current = buildNow();
      made++;
      try {
        const result = (await host.call('work', c)) as number;
        served++;
        const b = result >>> BUILD_BITS;
        const seq = result & ((1 << BUILD_BITS) - 1);
        if (b < current) stale++;
        let set = seqs.get(b);
        if (set === undefined) seqs.set(b, (set = new SeqSet()));
        if (!set.add(seq)) problems.push(`build ${b} returned seq ${seq} twice`);
      } catch (err) {
        failed++;
        if (failed <= 5) problems.push(`call failed: ${(err as Error).message}`);
      }
    }
  };
  const sample = async (): Promise<void> => {
    maxMapped = Math.max(maxMapped, await copiesMapped(copies));
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  };

  const started = performance.now();
  const running$ = Array.from({ length: callers }, (_, c) => caller(c));
  const sampler = setInterval(() => { void sample(); }, 10);
  let swapMsTotal = 0;
  // The first swaps grow the heap to its working size; growth after them is what a leak shows.
  const warm = 1 + Math.ceil(swaps / 10);
  let rssWarm = rssStart;
  const retired = new Set<number>();
  host.on('retired', (v) => retired.add(v.id));
  const retiredEvent = (id: number): Promise<void> => new Promise((resolve) => {
    if (retired.has(id)) return resolve();
    const listener = (v: { id: number }): void => { if (v.id === id) { host.off('retired', listener); resolve(); } };
    host.on('retired', listener);
  });
  for (let n = 2; n <= swaps + 1; n++) {
    const sha = await install(n);
    const t0 = performance.now();
    const from = host.current.id;
    const info = await host.reload().catch((err: Error) => { problems.push(`reload ${n}: ${err.message}`); return null; });
    swapMsTotal += performance.now() - t0;
    if (!overlap) await retiredEvent(from);
    if (info !== null && info.sha256 !== sha) problems.push(`reload ${n} resolved to a version with another build`);
    await sample();
    if (n === warm) rssWarm = memory().rss;
  }
  running = false;
  await Promise.all(running$);
  clearInterval(sampler);
  await sample();
  const elapsedS = (performance.now() - started) / 1000;
  const end = memory();
  const rssBeforeClose = end.rss;
  await host.close();

  const mappedLimit = overlap ? 3 : 2; // serving + loading (+ the one still retiring, with overlap)
  if (maxMapped > mappedLimit) problems.push(`${maxMapped} copies mapped at once while serving (at most ${mappedLimit})`);
  let counted = 0;
  for (let n = 1; n <= swaps + 1; n++) {
    const text = await readFile(join(countDir, `count-${n}`), 'utf8').catch(() => null);
    const count = text === null ? NaN : Number(text);
    const seen = seqs.get(n)?.size ?? 0;
    if (Number.isNaN(count)) { problems.push(`build ${n} never reported its count (unload hook did not run)`); continue; }
    counted += count;
    if (count !== seen) problems.push(`build ${n} executed ${count} calls, ${seen} results came back`);
  }
  if (counted !== made) problems.push(`${made} calls made, ${counted} executed natively`);
  if (served + failed !== made) problems.push(`${made} calls made, ${served + failed} settled`);
  if (stale > 0) problems.push(`${stale} calls served by a version older than the one current when they were made`);
  if (failed > 0) problems.push(`${failed} calls failed`);

  const mappedAfterClose = await settle(() => copiesMapped(copies), 0, 2000);
  const childrenAfterClose = await settle(async () => (await childPids()).length, 0, 2000);
  const onDiskAfterClose = (await readdir(copiesDir)).filter((name) => name.startsWith(COPY_PREFIX)).length
    + (copiesDir === tempDir ? 0 : (await readdir(tempDir)).length);
  const workersAfterClose = Math.max(0, (await settle(taskCount, baselineTasks, 2000)) - baselineTasks);
  if (mappedAfterClose > 0) problems.push(`${mappedAfterClose} copies still mapped after close`);
  if (onDiskAfterClose > 0) problems.push(`${onDiskAfterClose} entries left in the copies directory after close`);
  if (workersAfterClose > 0) problems.push(`${workersAfterClose} threads left after close`);
  if (childrenAfterClose > 0) problems.push(`${childrenAfterClose} child processes left after close`);

  return {
    problems,
    figures: {
      isolation, threads, callers, swaps, overlap: String(overlap),
      calls: made,
      callsPerSecond: Math.round(made / elapsedS),
      swapsPerSecond: Math.round((swaps / elapsedS) * 10) / 10,
      meanSwapMs: Math.round((swapMsTotal / swaps) * 10) / 10,
      lost: made - counted > 0 ? made - counted : 0,
      duplicated: counted - made > 0 ? counted - made : 0,
      stale,
      failed,
      maxCopiesMapped: maxMapped,
      rssStartMiB: mib(rssStart),
      rssPeakMiB: mib(rssPeak),
      rssGrowthMiB: mib(rssBeforeClose - rssStart),
      heapGrowthMiB: mib(end.heapUsed - start.heapUsed),
      arrayBuffersGrowthMiB: mib(end.arrayBuffers - start.arrayBuffers),
      rssGrowthPer100SwapsAfterWarmupMiB: mib(((rssBeforeClose - rssWarm) / (swaps + 1 - warm)) * 100),
      mappedAfterClose,
      onDiskAfterClose,
      workersAfterClose,
      childrenAfterClose,
      seconds: Math.round(elapsedS * 10) / 10,
    },
  };
}
