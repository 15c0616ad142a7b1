// The platform layer: one implementation per system, chosen once; a system without one
// is refused with a typed error, which every entry point raises first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import koffi from 'koffi';
import { test } from 'node:test';
import { IsoswapError } from '../../src/index.js';
import { platform, platformOf } from '../../src/platform/platform.js';

test('Linux and Windows each have an implementation; this process uses Linux\'s', () => {
  assert.equal(platformOf('linux').libraryExtension, '.so');
  assert.equal(platformOf('win32').libraryExtension, '.dll');
  assert.equal(platformOf('win32').libraryPrefix, '');
  assert.equal(platform(), platformOf('linux'));
});

test('macOS and other systems are refused with ERR_UNSUPPORTED_PLATFORM', () => {
  for (const system of ['darwin', 'freebsd', 'aix'] as const) {
    assert.throws(() => platformOf(system), (err: unknown) =>
      err instanceof IsoswapError && err.code === 'ERR_UNSUPPORTED_PLATFORM' && err.message.includes(system) && err.details.platform === system);
  }
});

test('Windows names the crash codes a child dies with; Linux leaves them to the signal', () => {
  const windows = platformOf('win32');
  assert.equal(windows.crashName(0xc0000005), 'STATUS_ACCESS_VIOLATION');
  assert.equal(windows.crashName(-1073741819), 'STATUS_ACCESS_VIOLATION', 'the same code, read as a signed int');
  assert.equal(windows.crashName(3), 'abort()');
  assert.equal(windows.crashName(0), undefined);
  assert.equal(windows.crashName(null), undefined);
  assert.equal(platformOf('linux').crashName(139), undefined);
});

test('a thread moves off a CPU it was told to leave, keeping the CPUs it may use; never off its only one', { skip: availableParallelism() < 2 && 'one CPU' }, () => {
  const linux = platformOf('linux');
  const allowed = (): string => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/self/task/${linux.threadId()}/status`, 'utf8'))![1]!;
  const before = allowed();
  const cpu = linux.currentCpu();
  assert.ok(cpu >= 0, 'sched_getcpu answers');
  assert.equal(linux.leaveCpu(cpu), true);
  assert.notEqual(linux.currentCpu(), cpu, 'moved before leaveCpu returned');
  assert.equal(allowed(), before, 'the set of CPUs it may use is as it was');
  assert.equal(linux.leaveCpu(-1), false, 'no such CPU');
  // Pinned to one CPU (as `taskset -c` does), it stays there.
  const only = linux.currentCpu();
  const { setAffinity } = affinityCalls();
  const mask = Buffer.alloc(128);
  mask[only >> 3] = 1 << (only & 7);
  assert.equal(setAffinity(0, 128, mask), 0);
  try {
    assert.equal(linux.leaveCpu(only), false);
    assert.equal(linux.currentCpu(), only);
  } finally {
    setAffinity(0, 128, cpuMask(before));
  }
  assert.equal(allowed(), before);
});

/** sched_setaffinity, declared here so that the test pins the thread itself. */
function affinityCalls(): { setAffinity: (pid: number, bytes: number, mask: Buffer) => number } {
  const libc = koffi.load('libc.so.6');
  return { setAffinity: libc.func('int sched_setaffinity(int pid, size_t size, const void *mask)') as (pid: number, bytes: number, mask: Buffer) => number };
}

/** A cpu_set_t from a Cpus_allowed_list ("0-1,4"). */
function cpuMask(list: string): Buffer {
  const mask = Buffer.alloc(128);
  for (const part of list.split(',')) {
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    for (let cpu = from; cpu <= to; cpu++) mask[cpu >> 3]! |= 1 << (cpu & 7);
  }
  return mask;
}

test('a thread Node names itself (Node 22 on: libuv-worker, V8Worker, node-…) is never taken for a guest thread that renamed itself', async () => {
  const linux = platformOf('linux');
  const NAMES = ['libuv-worker', 'node-V8Worker', 'DelayedTaskSche', 'tokio-rt-worker'];
  const words = new Int32Array(new SharedArrayBuffer(12)); // tid, the names taken, the names looked at
  const worker = new Worker(`
    const { workerData: { words, names, platformUrl } } = require('node:worker_threads');
    import(platformUrl).then(({ platformOf }) => {
      const linux = platformOf('linux');
      Atomics.store(words, 0, linux.threadId());
      names.forEach((name, i) => {
        linux.nameThisThread(name);
        Atomics.store(words, 1, i + 1);
        Atomics.notify(words, 1);
        while (Atomics.load(words, 2) < i + 1) Atomics.wait(words, 2, i, 1000);
      });
    });`, { eval: true, workerData: { words, names: NAMES, platformUrl: new URL('../../src/platform/platform.js', import.meta.url).href } });
  try {
    const seen: number[][] = [];
    for (let taken = 1; taken <= NAMES.length; taken++) {
      for (const end = Date.now() + 20_000; Atomics.load(words, 1) < taken;) {
        assert.ok(Date.now() < end, 'the worker took its next name within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const tid = Atomics.load(words, 0);
      seen.push(linux.guestThreads('isw-test', [], (t) => t === tid));
      Atomics.store(words, 2, taken);
      Atomics.notify(words, 2);
    }
    assert.deepEqual(seen, [[], [], [], [Atomics.load(words, 0)]], 'only the thread that took a name of its own is a guest');
  } finally {
    await worker.terminate();
  }
});
