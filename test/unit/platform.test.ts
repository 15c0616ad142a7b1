// The platform layer: one implementation per system, chosen once; a system without one
// is refused with a typed error, which every entry point raises first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
