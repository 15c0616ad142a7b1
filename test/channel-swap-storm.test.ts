// The fast path under a swap storm, in both isolations (a child process has its own ring):
// calls batched many per turn (numbers and strings), blocking calls, and calls after a
// pause (a worker woken from its blocking sleep), made while versions are swapped back to
// back and a compile loop competes for the CPU, each execute exactly once. Every version counts
// its executions natively and appends the count to a file when it unloads; the counts add
// up to the calls that returned. And the warm standby: the next version runs on a thread
// started before reload() was called, and close() ends it.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as turn, setTimeout as delay } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';
import { stormSwaps } from './helpers/storm.js';
import { startBuildLoad } from './helpers/build-load.js';

after(removeTempDirs);

const FUNCTIONS = { work: 'int32_t work(int32_t)', measure: 'size_t measure(const char *)', tid: 'int32_t tid(void)' };

const source = (countsFile: string): string => `#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
static int32_t count;
int32_t work(int32_t x) { count++; return x; }
size_t measure(const char *s) { count++; return strlen(s); }
int32_t tid(void) { return (int32_t)syscall(SYS_gettid); }
void isoswap_unload(void *state, uint32_t bytes) {
  FILE *f = fopen("${countsFile}", "a");
  fprintf(f, "%d\\n", count);
  fclose(f);
}
`;

const storms = [
  { isolation: 'thread', withState: false, swaps: stormSwaps(12, 25) },
  { isolation: 'thread', withState: true, swaps: stormSwaps(12, 25) },
  { isolation: 'process', withState: false, swaps: stormSwaps(6, 12) }, // a fork per swap: fewer
] as const;

for (const { isolation, withState, swaps: SWAPS } of storms) {
  test(`${SWAPS} swaps under batched, blocking and paused fast-path calls, a compile loop running, ${isolation} isolation${withState ? ', with a state block' : ''}: every call executed exactly once`, async () => {
    const dir = await makeTempDir();
    const counts = join(dir, 'counts.txt');
    const library = await buildC(source(counts));
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation, ...(withState ? { state: { bytes: 64 } } : {}) });
    let running = true;
    let next = 0;
    let returned = 0;
    const problems: string[] = [];
    const batcher = async (): Promise<void> => {
      while (running) {
        const args = Array.from({ length: 64 }, () => next++);
        // odd ones with a string: the ring's arena, in both isolations
        const results = await Promise.allSettled(args.map((x) => (x % 2 === 0 ? host.call('work', x) : host.call('measure', 'x'.repeat(x % 50)))));
        results.forEach((r, i) => {
          const expected = args[i]! % 2 === 0 ? args[i] : args[i]! % 50;
          if (r.status === 'rejected') problems.push(`call rejected: ${(r.reason as Error).message}`);
          else if (r.value !== expected) problems.push(`call ${args[i]} returned ${String(r.value)}`);
          else returned++;
        });
      }
    };
    const blocker = async (): Promise<void> => {
      while (running) {
        const x = next++;
        try {
          const r = host.callSync('work', x);
          if (r !== x) problems.push(`callSync work(${x}) returned ${r}`);
          else returned++;
        } catch (err) {
          problems.push(`callSync threw ${(err as Error).message}`); // it waits through hand-overs
        }
        await turn();
      }
    };
    // After a pause the worker may be blocked on its ring (or parked): woken by the call.
    const pauser = async (): Promise<void> => {
      for (let i = 0; running; i++) {
        await delay(3);
        const x = next++;
        try {
          const r = i % 2 === 0 ? host.callSync('work', x) : await host.call('work', x);
          if (r !== x) problems.push(`work(${x}) after a pause returned ${r}`);
          else returned++;
        } catch (err) {
          problems.push(`a call after a pause failed: ${(err as Error).message}`);
        }
      }
    };
    const hog = startBuildLoad(1);
    const callers = [batcher(), batcher(), batcher(), blocker(), pauser()];
    try {
      for (let i = 0; i < SWAPS; i++) await host.reload();
    } finally {
      running = false;
      hog.stop();
      await Promise.all(callers);
      await host.close();
    }
    assert.deepEqual(problems.slice(0, 5), []);
    const perVersion = (await readFile(counts, 'utf8')).trim().split('\n').map(Number);
    assert.equal(perVersion.length, SWAPS + 1, 'each version unloaded once and reported its count');
    assert.ok(returned > SWAPS * 64, `the callers were busy during the swaps (${returned} calls)`);
    assert.ok(perVersion.filter((n) => n > 0).length > SWAPS / 2, `calls ran on many versions: ${perVersion.join(' ')}`);
    assert.equal(perVersion.reduce((a, b) => a + b, 0), returned, 'executions counted natively = calls that returned');
  });
}

test('reload() runs the new version on a thread started before it (warm standby); close() ends the standby too', async () => {
  const dir = await makeTempDir();
  const library = await buildC(source(join(dir, 'counts.txt')));
  const threads = async (): Promise<string[]> => readdir('/proc/self/task');
  // A first host warms up what stays for good (libuv's thread pool, koffi in this thread).
  await (await createIsolatedHost({ library, functions: FUNCTIONS })).close();
  const before = await threads();

  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  try {
    const served = new Set(before); // threads that are not the standby: the host's, and versions'
    for (let swap = 0; swap < 3; swap++) {
      const serving = host.callSync('tid');
      served.add(String(serving));
      // The standby starts a while after the version it follows serves (250 ms after the
      // first, 20 ms after a swap): wait for its thread (bounded).
      for (const deadline = Date.now() + 20_000; (await threads()).every((t) => served.has(t));) {
        assert.ok(Date.now() < deadline, 'the standby thread started');
        await delay(10);
      }
      const startedBefore = await threads();
      await host.reload();
      const tid = host.callSync('tid');
      assert.notEqual(tid, serving, 'the new version runs on another thread');
      assert.ok(startedBefore.includes(String(tid)), `thread ${tid} of the new version was started before reload()`);
      assert.ok(!before.includes(String(tid)));
    }
  } finally {
    await host.close();
  }
  assert.deepEqual((await threads()).sort(), before.sort(), 'no worker thread is left, standby included');
});
