// isolation: 'process' on the shared-memory ring (src/transport/process-ring.ts): every
// argument and result type gives what the message path gives, a child SIGKILLed mid-call
// rejects exactly the calls it held and the build restarts, an idle child blocks in a
// futex and is still reached by calls and messages. Elsewhere: exactly once under
// a swap storm (channel-swap-storm.test.ts), 20 swaps leave no fd, ring mapping or
// /dev/shm file (process-callsync.test.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test, type TestContext } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type SwapEvent } from '../src/index.js';
import { NOT_FAST, type CallChannel } from '../src/transport/call-channel.js';
import type { LoadReport } from '../src/wire/protocol.js';
import { channelViews, WORKER_BLOCKED, WORKER_STATE } from '../src/transport/ring-layout.js';
import { futexWait } from '../src/transport/futex.js';
import { createRingMemory, mapRing } from '../src/transport/ring-mapping.js';
import { ChildProcessHandle } from '../src/runtime/process/child-process-handle.js';
import { RING_TYPES, RING_TYPES_SOURCE, ringTypeCases, unshared } from './helpers/ring-types-fixture.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const crashed = (signal: string) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, `expected an IsoswapError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_VERSION_CRASHED', err.message);
  assert.equal(err.details['signal'], signal, err.message);
  return true;
};

/** A child serving the ring-types library on its ring. */
async function ringTypesChild(): Promise<{ child: ChildProcessHandle; channel: CallChannel; report: LoadReport }> {
  const library = await buildC(RING_TYPES_SOURCE);
  const child = new ChildProcessHandle();
  const report = await child.request((r) => r.load({ library, copy: library, functions: RING_TYPES, processRing: true }));
  const channel = child.channel!;
  channel.open(report, undefined);
  return { child, channel, report };
}

test('every argument and result type: the ring (call and callSync) gives what IPC and the sync pipes give', async () => {
  const { child, channel, report } = await ringTypesChild();
  try {
    assert.deepEqual(Object.keys(report.fast ?? {}).sort(), Object.keys(RING_TYPES).sort(), 'every function of the table is on the ring');
    // Twice: the second time a long string result fits the room that grew for it.
    for (const round of [1, 2]) {
      for (const [name, args] of ringTypeCases(new SharedArrayBuffer(64))) {
        const what = `${name}(${args.map((a) => (typeof a === 'string' && a.length > 20 ? `${a.slice(0, 20)}…` : String(a))).join(', ')}) round ${round}`;
        const viaMessage = await child.request((r) => r.call(name, args.map(unshared)));
        const onRing = channel.call(name, args);
        assert.ok(onRing !== undefined, `${what} goes on the ring`);
        assert.deepEqual(await onRing, viaMessage, what);
        const sync = channel.callSync(name, args);
        assert.notEqual(sync, NOT_FAST, what);
        assert.deepEqual(sync, child.syncCall.call(name, args.map(unshared)), `${what}, callSync`);
      }
    }
    // _Out_ and _Inout_ buffers come back as they do over IPC (where koffi writes the copy).
    const filled = new Uint8Array(4);
    await channel.call('fill_u8', [filled, 4, 10]);
    assert.deepEqual([...filled], [10, 11, 12, 13]);
    const scaled = new Float32Array([1, 2]);
    channel.callSync('scale', [scaled, 2, 1.5]);
    assert.deepEqual([...scaled], [1.5, 3]);
  } finally {
    await child.kill();
  }
});

/** A library whose `hold()` writes its pid to `started` (renamed into place) and waits,
 *  up to 20 s, for `go`; `work(x)` returns x + k, counting its calls. */
const holdSource = (k: number, started: string, go: string): string => `#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
int32_t hold(void) {
  FILE *f = fopen("${started}.tmp", "w");
  fprintf(f, "%d", (int)getpid());
  fclose(f);
  rename("${started}.tmp", "${started}");
  for (int i = 0; i < 20000 && access("${go}", F_OK) != 0; i++) usleep(1000);
  return access("${go}", F_OK) == 0 ? ${k} : -1;
}
int32_t work(int32_t x) { return x + ${k}; }
`;
const HOLD_FUNCTIONS = { hold: 'int32_t hold(void)', work: 'int32_t work(int32_t)' };

/** Waits (bounded) until `file` exists and returns its content. */
async function rendezvous(file: string): Promise<string> {
  for (let i = 0; i < 2000 && !existsSync(file); i++) await sleep(10);
  return readFileSync(file, 'utf8');
}

/** A process-isolation host of build `k` of the hold library; `started` is its rendezvous. */
async function holdingHost(t: TestContext, k: number): Promise<{ host: IsolatedHost<typeof HOLD_FUNCTIONS>; started: string }> {
  const dir = await makeTempDir();
  const started = join(dir, 'started');
  const library = await buildC(holdSource(k, started, join(dir, 'go')));
  const host = await createIsolatedHost({ library, functions: HOLD_FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  return { host, started };
}

/** Whether process `pid` maps a call ring. */
const ringMapped = (pid: number): boolean => readFileSync(`/proc/${pid}/maps`, 'utf8').includes('isoswap-ring');

test('a child SIGKILLed during a call rejects exactly the calls it held (ERR_VERSION_CRASHED); the build restarts and serves', async (t) => {
  const { host, started } = await holdingHost(t, 5);
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  assert.equal(await host.call('work', 0), 5, 'a call answered before the crash stays answered');
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  // hold runs first; the five work calls wait behind it in the ring.
  const held = [host.call('hold'), ...[1, 2, 3, 4, 5].map((x) => host.call('work', x))];
  const pid = Number(await rendezvous(started));
  assert.ok(ringMapped(pid), 'the child serves a ring');
  process.kill(pid, 'SIGKILL');
  const results = await Promise.allSettled(held);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    crashed('SIGKILL')(r.reason);
  }
  const swap = await restarted;
  assert.equal(swap.reason, 'restart');
  assert.equal(await host.call('work', 1), 6);
  assert.equal(host.callSync('work', 2), 7);
  assert.equal(errors.length, 1);
});

test('callSync on the ring: a child SIGKILLed while the host blocks throws ERR_VERSION_CRASHED; the build restarts', async (t) => {
  const { host, started } = await holdingHost(t, 3);
  host.on('error', () => {});
  assert.equal(host.callSync('work', 1), 4);
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  // The host blocks: another process does the killing once hold() has started (bounded).
  const killer = spawn('sh', ['-c', `for i in $(seq 2000); do [ -s ${started} ] && exec kill -9 $(cat ${started}); sleep 0.01; done; exit 1`], { stdio: 'ignore' });
  const killed = new Promise((resolve) => killer.once('exit', resolve));
  assert.throws(() => host.callSync('hold'), crashed('SIGKILL'));
  assert.equal(await killed, 0);
  assert.equal(await host.call('work', 1), 4, 'the call waits for the restart');
  assert.equal((await restarted).reason, 'restart');
  assert.equal(host.callSync('work', 2), 5);
});

test('after idling, the child blocks in a futex on its ring and sleeps; calls wake it, and IPC and sync-pipe requests still reach it', async () => {
  const { child, channel } = await ringTypesChild();
  try {
    const { header } = channelViews(channel.buffer);
    const blocked = async (): Promise<void> => {
      let polls = 0;
      while (Atomics.load(header, WORKER_STATE) !== WORKER_BLOCKED && polls++ < 400) await sleep(5);
      assert.equal(Atomics.load(header, WORKER_STATE), WORKER_BLOCKED, 'the spin backed off to a futex wait');
    };
    const [name, args] = ringTypeCases(new SharedArrayBuffer(64)).find(([, a]) => a.every((x) => typeof x === 'number'))!;
    const expected = await child.request((r) => r.call(name, args));
    await blocked();
    // /proc/<pid>/stat, third field: S while the child sleeps in the futex (look again: a
    // slice's end wakes it for a moment).
    const states: string[] = [];
    for (let i = 0; i < 20 && !states.includes('S'); i++) {
      states.push(readFileSync(`/proc/${child.child.pid}/stat`, 'latin1').replace(/^.*\) /s, '')[0] ?? '?');
      await sleep(5);
    }
    assert.ok(states.includes('S'), `the child sleeps (states seen: ${states.join('')})`);
    assert.deepEqual(await channel.call(name, args), expected, 'an await call wakes it');
    await blocked();
    assert.deepEqual(channel.callSync(name, args), expected, 'a blocking call wakes it');
    await blocked();
    assert.deepEqual(await child.request((r) => r.call(name, args)), expected, 'an IPC request reaches a blocked child');
    await blocked();
    assert.deepEqual(child.syncCall.call(name, args), expected, 'so does a sync-pipe request');
  } finally {
    await child.stop();
  }
});

test('futexWait on a memfd mapping: not-equal at once, timed-out after its bound', () => {
  const fd = createRingMemory(4096);
  assert.ok(fd >= 0);
  const ring = mapRing(fd, 4096)!;
  try {
    const words = new Int32Array(ring.buffer);
    Atomics.store(words, 0, 7);
    assert.equal(futexWait(ring.address, 6, 1000), 'not-equal');
    assert.equal(futexWait(ring.address, 7, 1), 'timed-out');
  } finally {
    ring.unmap();
    closeSync(fd);
  }
});
