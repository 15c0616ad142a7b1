// Issue 27: a call whose answer was published resolves with it, whatever order the host
// learns of the answer and of the death: in process isolation with the host's event loop
// busy while the child answers f(0) and dies in f(1) (ring and IPC), and in thread
// isolation when the worker is ended after it answered (ring).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { ThreadWorkerHandle } from '../src/runtime/thread/thread-worker-handle.js';
import { DONE } from '../src/transport/ring-layout.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

/** f(0) answers 40; f(1) aborts. g takes nine arguments (more than a ring slot holds):
 *  it goes over IPC and the sync pipes; g(0) writes its pid to `answered` before it
 *  returns 41. told(0), on the ring, does the same and returns 43. slow(0) answers 42
 *  after 2 ms (longer than the host spins for an answer). */
const source = (answered: string): string => `#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int32_t f(int32_t x) { if (x) abort(); return 40; }
int32_t g(int32_t x, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t h, int32_t i, int32_t j) {
  if (x) abort();
  FILE *out = fopen("${answered}.tmp", "w");
  fprintf(out, "%d", (int)getpid());
  fclose(out);
  rename("${answered}.tmp", "${answered}");
  return 41 + a + b + c + d + e + h + i + j;
}
int32_t slow(int32_t x) { usleep(2000); return 42 + x; }
int32_t told(int32_t x) {
  FILE *out = fopen("${answered}.tmp", "w");
  fprintf(out, "%d", (int)getpid());
  fclose(out);
  rename("${answered}.tmp", "${answered}");
  return 43 + x;
}
`;
const FUNCTIONS = {
  f: 'int32_t f(int32_t)',
  g: 'int32_t g(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t)',
  slow: 'int32_t slow(int32_t)',
  told: 'int32_t told(int32_t)',
};
const RUNS = 10;
const BUSY_MS = 60;

let library = '';
let answered = '';
before(async () => {
  answered = join(await makeTempDir(), 'answered');
  library = await buildC(source(answered));
});
after(removeTempDirs);

/** Keeps the event loop from turning for `ms`: the host is busy. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

/** Lets the microtasks that send the calls made so far run, without a turn of the loop. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Blocks (bounded) until `done()`: the event loop must not see what happens meanwhile. */
function blockUntil(done: () => boolean, what: string): void {
  const end = performance.now() + 20_000;
  while (!done()) if (performance.now() > end) throw new Error(`${what} did not happen within 20 s`);
}

/** The state letter of process `pid` (S: asleep, waiting for input). */
const processState = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
};

const isCrash = (err: unknown): boolean => err instanceof IsoswapError && err.code === 'ERR_VERSION_CRASHED';

/** Blocks until the child has answered the call that wrote `answered` and gone back to
 *  sleep on its event loop (the answer is out: in the ring, or in the IPC channel); the
 *  host's event loop never turns meanwhile. */
function blockUntilAnswered(): void {
  blockUntil(() => existsSync(answered), 'the call');
  const pid = Number(readFileSync(answered, 'utf8'));
  blockUntil(() => processState(pid) === 'S', 'its answer');
}

// The death learnt first, for certain: a callSync over the pipes sees the child die (EOF)
// while the answer of an earlier call waits, unread, in the ring or in the IPC channel.
const NINE = [0, 0, 0, 0, 0, 0, 0, 0, 0];
for (const [path, name, args, value] of [['the ring', 'told', [0], 43], ['IPC', 'g', NINE, 41]] as const) {
  test(`process isolation, ${path}: an answered call resolves when a blocked callSync learns of the child's death before the answer`, async () => {
    for (let run = 1; run <= 3; run++) {
      const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process' });
      host.on('error', () => {});
      try {
        const first = (host.call as (n: string, ...a: number[]) => Promise<unknown>)(name, ...args);
        await microtasks();
        blockUntilAnswered();
        assert.throws(() => host.callSync('g', 1, 0, 0, 0, 0, 0, 0, 0, 0), isCrash);
        assert.equal(await first, value, `run ${run}: the answered call resolves with its answer`);
      } finally {
        await host.close();
        rmSync(answered, { force: true });
      }
    }
  });
}

test(`process isolation, the ring: f(0) answered, then f(1) kills the child while the host is busy for ${BUSY_MS} ms: f(0) resolves, ${RUNS} runs in a row`, async () => {
  for (let run = 1; run <= RUNS; run++) {
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process' });
    host.on('error', () => {});
    try {
      const first = host.call('f', 0);
      const second = host.call('f', 1);
      await microtasks(); // the calls are written and the child woken
      busy(BUSY_MS); // the child answers f(0), then dies in f(1): the host learns of both after
      const [a, b] = await Promise.allSettled([first, second]);
      assert.deepEqual(a, { status: 'fulfilled', value: 40 }, `run ${run}: the answered call resolves with its answer`);
      assert.ok(b.status === 'rejected' && isCrash(b.reason), `run ${run}: the call that crashed rejects ERR_VERSION_CRASHED`);
    } finally {
      await host.close();
    }
  }
});

test(`process isolation, IPC: g(0) answered, then g(1) kills the child while the host is busy for ${BUSY_MS} ms: g(0) resolves, ${RUNS} runs in a row`, async () => {
  for (let run = 1; run <= RUNS; run++) {
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process' });
    host.on('error', () => {});
    try {
      const first = host.call('g', 0, 0, 0, 0, 0, 0, 0, 0, 0);
      await microtasks(); // sent
      blockUntilAnswered();
      const second = host.call('g', 1, 0, 0, 0, 0, 0, 0, 0, 0);
      await microtasks();
      busy(BUSY_MS);
      const [a, b] = await Promise.allSettled([first, second]);
      assert.deepEqual(a, { status: 'fulfilled', value: 41 }, `run ${run}: the answered call resolves with its answer`);
      assert.ok(b.status === 'rejected' && isCrash(b.reason), `run ${run}: the call that crashed rejects ERR_VERSION_CRASHED`);
    } finally {
      await host.close();
      rmSync(answered, { force: true });
    }
  }
});

test('thread isolation, the ring: a worker ended after it answered (before the host collected) resolves the answered call', async () => {
  for (let run = 1; run <= RUNS; run++) {
    const worker = new ThreadWorkerHandle();
    const report = await worker.request((r) => r.load({ library, copy: library, functions: FUNCTIONS, channel: worker.channel.buffer }));
    worker.channel.open(report, undefined);
    const header = new Int32Array(worker.channel.buffer);
    const first = worker.channel.call('slow', [0])!;
    await microtasks(); // written, the worker woken; the host, done spinning, waits on its event loop
    blockUntil(() => Atomics.load(header, DONE) === 1, 'the answer');
    const killed = worker.kill(new IsoswapError('ERR_VERSION_CRASHED', 'ended by the test'));
    assert.equal(await first, 42, `run ${run}: the answered call resolves with its answer`);
    await killed;
  }
});
