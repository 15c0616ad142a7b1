// Issue 12, the restart after a crash in process isolation: a callSync loop that never
// yields to the event loop goes on through a crash of its version. The callSync after the
// one that crashed restarts the build itself, over the blocking paths, and runs on it;
// the event loop's restart then finds it done. Past drainTimeoutMs + hookTimeoutMs it
// throws ERR_SWAP_IN_PROGRESS and the event loop finishes the restart.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { createAddonHost, createIsolatedHost, IsoswapError, type IsolatedHost, type SwapEvent } from '../src/index.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { ACT, ACT_FUNCTIONS, actSource, childPids } from './helpers/act-fixture.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';
import { INCLUDE } from './helpers/section-fixture.js';

after(removeTempDirs);

const FUNCTIONS = { frame: 'int32_t frame(int32_t what)' } as const;
type Host = IsolatedHost<typeof FUNCTIONS>;

/** The state block, in int32s: frames run, isoswap_load_ex calls, and what the last one was told. */
const SLOT = { frames: 0, loads: 1, reason: 2, failure: 3, version: 4, previous: 5, build: 6 } as const;
const RESTART = 3;
const ROLLBACK = 2;
const FAILURE_ABORT = 3;

/**
 * Build `k`: frame(0) counts a frame in the state block and returns the count; frame(1)
 * aborts (the frame is not counted). isoswap_load_ex records what it is told. With
 * `gate`: the constructor of a load started while `<gate>.armed` exists waits for
 * `<gate>.open` (a load that cannot finish in time).
 */
const source = (k: number, gate?: string): string => `#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "isoswap.h"
static int32_t *block;
${gate === undefined ? '' : `__attribute__((constructor)) static void wait_gate(void) {
  if (access("${gate}.armed", F_OK) != 0) return;
  while (access("${gate}.open", F_OK) != 0) usleep(1000);
}`}
int32_t isoswap_load_ex(void *state, uint32_t bytes, const isoswap_info *info) {
  (void)bytes;
  block = state;
  block[${SLOT.loads}]++;
  block[${SLOT.reason}] = (int32_t)info->reason;
  block[${SLOT.failure}] = (int32_t)info->failure;
  block[${SLOT.version}] = (int32_t)info->version;
  block[${SLOT.previous}] = (int32_t)info->previous;
  block[${SLOT.build}] = ${k};
  return 0;
}
int32_t frame(int32_t what) {
  if (what == 1) abort();
  return ++block[${SLOT.frames}];
}
`;

async function start(t: TestContext, opts: { gate?: string; drainTimeoutMs?: number; hookTimeoutMs?: number } = {}): Promise<{ host: Host; library: string; events: Events }> {
  const library = join(await makeTempDir(), 'libloop.so');
  await buildC(source(1, opts.gate), library, [`-I${INCLUDE}`]);
  const host = await createIsolatedHost({
    library, functions: FUNCTIONS, isolation: 'process', state: { bytes: 64 },
    drainTimeoutMs: opts.drainTimeoutMs ?? 10_000, hookTimeoutMs: opts.hookTimeoutMs ?? 5_000,
  });
  t.after(() => host.close());
  const events: Events = { swaps: [], crashes: 0, errors: [] };
  host.on('swap', (swap) => events.swaps.push(swap));
  host.on('crash', () => { events.crashes++; });
  host.on('error', (err) => events.errors.push(err));
  return { host, library, events };
}

interface Events { swaps: SwapEvent[]; crashes: number; errors: IsoswapError[] }

const slot = (host: Host, at: number): number => {
  const state = host.state!;
  return new DataView(state.buffer, state.byteOffset, state.byteLength).getInt32(at * 4, true);
};

const coded = (code: string) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, `expected an IsoswapError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};

test('a callSync loop that never yields goes on through a crash: the next callSync restarts the build and runs on it', async (t) => {
  const { host, events } = await start(t);
  const crashed = host.current;
  const answers: number[] = [];
  // One synchronous loop: no await, no turn of the event loop, from the first frame to the last.
  for (let i = 0; i < 60; i++) {
    if (i === 20) {
      assert.throws(() => host.callSync('frame', 1), (err: unknown) => coded('ERR_VERSION_CRASHED')(err)
        && (err as IsoswapError).details['signal'] === 'SIGABRT');
      continue;
    }
    answers.push(host.callSync('frame', 0));
  }
  assert.deepEqual(answers, Array.from({ length: 59 }, (_, i) => i + 1), 'every frame ran exactly once, in order, none refused');
  assert.equal(slot(host, SLOT.frames), 59, 'counted natively, in the state block');
  assert.equal(host.current.sourceId, crashed.id, 'the restarted build serves');
  assert.equal(host.current.sha256, crashed.sha256);
  assert.deepEqual([slot(host, SLOT.reason), slot(host, SLOT.failure), slot(host, SLOT.version), slot(host, SLOT.previous)],
    [RESTART, FAILURE_ABORT, host.current.id, crashed.id], 'isoswap_load_ex was told: restart, after an abort, from the crashed version');
  assert.equal(slot(host, SLOT.loads), 2, 'the first load and one restart');
  assert.equal(events.swaps.length, 1, 'the restart was reported while the loop ran');

  // The event loop's restart, queued at the crash, runs before this reload: it finds it done.
  await host.reload();
  assert.deepEqual(events.swaps.map((s) => s.reason), ['restart', 'reload'], 'exactly one restart');
  assert.equal(events.swaps[0]!.from.id, crashed.id);
  assert.equal(events.crashes, 1);
  assert.equal(events.errors.length, 1, 'the crash, reported once');
  assert.deepEqual(host.history.map((v) => [v.id, v.sourceId]), [[crashed.id, undefined], [events.swaps[0]!.to.id, crashed.id], [host.current.id, undefined]]);
  assert.equal(host.history[0]!.status, 'crashed');
  assert.equal(slot(host, SLOT.loads), 3, 'no second restart ran isoswap_load');
  assert.equal(host.callSync('frame', 0), 60);
  assert.equal(await host.call('frame', 0), 61);
  await host.close();
  assert.deepEqual(childPids(), [], 'no child process is left (crashed, restarted, standby)');
});

test('the crash policy is the same in a loop that never yields: a build that keeps crashing is rolled back', async (t) => {
  const { host, library, events } = await start(t);
  await buildC(source(2), library, [`-I${INCLUDE}`]);
  const good = host.current;
  await host.reload();
  const bad = host.current;
  const answers: number[] = [];
  const restartsBefore = events.swaps.length;
  for (let crash = 0; crash < 3; crash++) {
    assert.throws(() => host.callSync('frame', 1), coded('ERR_VERSION_CRASHED'));
    answers.push(host.callSync('frame', 0));
  }
  assert.deepEqual(answers, [1, 2, 3], 'each crash was followed by a frame on a served version');
  assert.deepEqual(events.swaps.slice(restartsBefore).map((s) => s.reason), ['restart', 'restart', 'rollback'],
    'restarted twice, then given up on (3 crashes within 10 s)');
  assert.equal(host.current.sourceId, good.id, 'the previous good build serves');
  assert.equal(slot(host, SLOT.build), 1);
  assert.deepEqual([slot(host, SLOT.reason), slot(host, SLOT.failure)], [ROLLBACK, FAILURE_ABORT]);
  assert.equal(host.history.find((v) => v.id === bad.id)?.status, 'crashed');
  assert.equal(host.history.at(-2)?.status, 'failed', 'the last restart of the bad build');
  await host.reload(); // behind the queued event-loop recoveries: they found their work done
  assert.deepEqual(events.swaps.slice(restartsBefore).map((s) => s.reason), ['restart', 'restart', 'rollback', 'reload']);
  assert.equal(events.crashes, 3);
  assert.equal(events.errors.length, 3, 'each crash reported once, nothing else');
});

test('a restart that cannot finish within drainTimeoutMs + hookTimeoutMs: callSync throws ERR_SWAP_IN_PROGRESS, the event loop finishes it', async (t) => {
  const gate = join(await makeTempDir(), 'gate');
  const drainTimeoutMs = 200;
  const hookTimeoutMs = 300;
  const { host, events } = await start(t, { gate, drainTimeoutMs, hookTimeoutMs });
  const crashed = host.current;
  assert.equal(host.callSync('frame', 0), 1);
  writeFileSync(`${gate}.armed`, ''); // loads from now on wait for the gate
  assert.throws(() => host.callSync('frame', 1), coded('ERR_VERSION_CRASHED'));
  const began = performance.now();
  assert.throws(() => host.callSync('frame', 0), (err: unknown) => coded('ERR_SWAP_IN_PROGRESS')(err)
    && (err as IsoswapError).details['timeoutMs'] === drainTimeoutMs + hookTimeoutMs);
  const waited = performance.now() - began;
  assert.ok(waited >= drainTimeoutMs + hookTimeoutMs - 1, `callSync waited for the restart (${waited.toFixed(0)} ms)`);
  assert.ok(waited < drainTimeoutMs + hookTimeoutMs + 5_000, `and no longer than its bound (${waited.toFixed(0)} ms)`);
  const again = performance.now();
  assert.throws(() => host.callSync('frame', 0), coded('ERR_SWAP_IN_PROGRESS'));
  assert.ok(performance.now() - again < drainTimeoutMs + hookTimeoutMs, 'once given up, callSync does not wait again');
  assert.equal(events.swaps.length, 0);

  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  writeFileSync(`${gate}.open`, ''); // the event loop's restart, waiting at the gate, loads now
  const answer = host.call('frame', 0); // held until the restart serves
  const swap = await restarted;
  assert.equal(swap.reason, 'restart');
  assert.equal(swap.to.sourceId, crashed.id);
  assert.equal(await answer, 2);
  assert.equal(host.callSync('frame', 0), 3);
  assert.equal(slot(host, SLOT.loads), 2, 'the abandoned restart never reached isoswap_load');
  assert.deepEqual([slot(host, SLOT.reason), slot(host, SLOT.failure)], [RESTART, FAILURE_ABORT]);
  await host.reload();
  assert.deepEqual(events.swaps.map((s) => s.reason), ['restart', 'reload'], 'one restart');
  assert.equal(events.errors.length, 1, 'the crash; giving up the blocking restart is not an error');
  await host.close();
  assert.deepEqual(childPids(), [], 'the child the abandoned restart loaded in was killed');
});

test('a restart the event loop began (the crash was seen by an awaited call): callSync throws ERR_SWAP_IN_PROGRESS at once, then runs on it', async (t) => {
  const { host, events } = await start(t);
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  assert.equal(host.callSync('frame', 0), 1);
  // The crash is seen on the event loop; its restart starts in the same turn and waits there
  // for the new child's answer, which this turn cannot have yet.
  await assert.rejects(host.call('frame', 1), coded('ERR_VERSION_CRASHED'));
  assert.throws(() => host.callSync('frame', 0), (err: unknown) => coded('ERR_SWAP_IN_PROGRESS')(err)
    && /being loaded again on the event loop/.test((err as Error).message));
  assert.equal((await restarted).reason, 'restart');
  assert.equal(host.callSync('frame', 0), 2, 'the refused call did not run');
  assert.equal(events.swaps.length, 1);
});

test('without a state block, with two processes per version: the next callSync restarts the version and runs on it', async (t) => {
  const library = await buildC(actSource(7));
  const host = await createIsolatedHost({ library, functions: ACT_FUNCTIONS, isolation: 'process', threads: 2 });
  t.after(() => host.close());
  const swaps: SwapEvent[] = [];
  host.on('swap', (swap) => swaps.push(swap));
  host.on('error', () => {});
  const crashed = host.current;
  assert.equal(host.callSync('act', ACT.RETURN), 7);
  assert.throws(() => host.callSync('act', ACT.SEGFAULT), coded('ERR_VERSION_CRASHED'));
  for (let i = 0; i < 10; i++) assert.equal(host.callSync('act', ACT.RETURN), 7);
  assert.equal(swaps.length, 1);
  assert.equal(swaps[0]!.reason, 'restart');
  assert.equal(swaps[0]!.pauseMs, undefined, 'nothing to hand over: as on the event loop');
  assert.equal(host.current.sourceId, crashed.id);
  assert.equal(await host.call('act', ACT.RETURN), 7);
  await host.close();
  assert.deepEqual(childPids(), []);
});

test('a Node-API addon in process isolation: the next callSync loads it again itself and runs on it', async (t) => {
  const addon = await createAddonHost<TestAddon>({ addon: await buildAddon(1), isolation: 'process', state: { bytes: 64 } });
  t.after(() => addon.close());
  const words = new Uint32Array(addon.state!.buffer, addon.state!.byteOffset, 3);
  const swaps: SwapEvent[] = [];
  addon.on('swap', (swap) => swaps.push(swap));
  addon.on('error', () => {});
  assert.equal(addon.callSync('tick', 1), 2);
  assert.throws(() => addon.callSync('crash'), coded('ERR_VERSION_CRASHED'));
  assert.equal(addon.callSync('tick', 3), 4, 'the restarted build serves, without a turn of the event loop');
  assert.equal(words[0], 2, 'tick(1) and tick(3) counted in the state block');
  assert.deepEqual(swaps.map((s) => s.reason), ['restart']);
});
