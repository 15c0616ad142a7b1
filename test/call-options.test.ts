// host.callWith({ signal, timeoutMs }, name, ...args): a call aborted before it left the
// host never runs (details.started false); one aborted while it runs rejects at once
// (details.started true) and its work runs to its end on the version; a call's own
// timeoutMs replaces callTimeoutMs. Rendezvous through files, never sleeps.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createAddonHost, IsoswapError, type SwapEvent } from '../src/index.js';
import { ACT, actHost, ticks } from './helpers/act-fixture.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { typed } from './helpers/typed-error.js';

after(removeTempDirs);


test('an aborted signal: ERR_CALL_ABORTED, started false, and nothing ran', async (t) => {
  const host = await actHost(t, { state: { bytes: 64 } });
  assert.equal(await host.call('tick'), 1);
  const aborted = AbortSignal.abort(new Error('gone'));
  await assert.rejects(host.callWith({ signal: aborted }, 'tick'), (err: unknown) => {
    assert.ok(err instanceof IsoswapError && err.code === 'ERR_CALL_ABORTED');
    assert.equal(err.details.started, false);
    assert.equal(err.details.function, 'tick');
    assert.equal((err.cause as Error).message, 'gone', 'the signal\'s reason is the cause');
    return true;
  });
  assert.equal(ticks(host.state), 1, 'tick never ran');
  assert.equal(await host.callWith({ signal: new AbortController().signal }, 'tick'), 2, 'a signal that never fires changes nothing');
});

test('aborted while held (a crash restart): ERR_CALL_ABORTED at once, started false; the restarted build never runs it', async (t) => {
  const host = await actHost(t, { isolation: 'process', state: { bytes: 64 } });
  assert.equal(await host.call('tick'), 1);
  const held = new Promise<{ call: Promise<unknown> }>((resolve) => host.once('crash', () => {
    // calls made from a crash listener wait for the restart
    const controller = new AbortController();
    const call = host.callWith({ signal: controller.signal }, 'tick');
    controller.abort();
    resolve({ call });
  }));
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  await assert.rejects(host.call('act', ACT.SEGFAULT), typed('ERR_VERSION_CRASHED'));
  await assert.rejects((await held).call, typed('ERR_CALL_ABORTED', { started: false }));
  assert.equal((await restarted).reason, 'restart');
  assert.equal(await host.call('tick'), 2, 'the aborted tick never ran');
});

test('aborted while it runs: ERR_CALL_ABORTED at once, started true; the version runs it to its end', async (t) => {
  const host = await actHost(t, { isolation: 'process' });
  const go = join(await makeTempDir(), 'go');
  const controller = new AbortController();
  const running = host.callWith({ signal: controller.signal }, 'wait_file', go);
  const behind = host.call('act', ACT.RETURN); // one process: answered after wait_file
  controller.abort();
  await assert.rejects(running, typed('ERR_CALL_ABORTED', { started: true, function: 'wait_file' }));
  await writeFile(go, '');
  assert.equal(await behind, 5, 'the version went on after the aborted call returned');
  assert.equal(host.current.id, 1, 'an abort neither kills nor replaces the version');
});

test('timeoutMs replaces callTimeoutMs for one call: a shorter one kills and replaces the version, 0 lifts the limit', async (t) => {
  const host = await actHost(t, { isolation: 'process', callTimeoutMs: 1000 });
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  await assert.rejects(host.callWith({ timeoutMs: 150 }, 'act', ACT.HANG), typed('ERR_CALL_TIMEOUT', { timeoutMs: 150, function: 'act' }));
  assert.equal((await restarted).reason, 'restart');
  // act(SLEEP_2S) outlives callTimeoutMs (1 s): with timeoutMs 0 it has no limit
  assert.equal(await host.callWith({ timeoutMs: 0 }, 'act', ACT.SLEEP_2S), 5);
  assert.equal(host.current.id, 2, 'not replaced again');
});

test('a per-call timeout without callTimeoutMs also replaces the version (thread)', async (t) => {
  const host = await actHost(t);
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  // SLEEP_2S returns by itself: the abandoned thread ends, the test process can exit
  await assert.rejects(host.callWith({ timeoutMs: 100 }, 'act', ACT.SLEEP_2S), typed('ERR_CALL_TIMEOUT', { timeoutMs: 100 }));
  assert.equal((await restarted).reason, 'restart');
  assert.equal(await host.call('act', ACT.RETURN), 5);
});

test('call options are checked: ERR_INVALID_OPTIONS names the option', async (t) => {
  const host = await actHost(t);
  const untyped = host as unknown as { callWith(options: unknown, name: string, ...args: unknown[]): Promise<unknown> };
  await assert.rejects(untyped.callWith({ timeout: 5 }, 'tick'), typed('ERR_INVALID_OPTIONS', { option: 'timeout', suggestion: 'timeoutMs' }));
  await assert.rejects(untyped.callWith({ timeoutMs: -1 }, 'tick'), typed('ERR_INVALID_OPTIONS', { option: 'timeoutMs' }));
  await assert.rejects(untyped.callWith({ timeoutMs: 2 ** 31 }, 'tick'), typed('ERR_INVALID_OPTIONS', { option: 'timeoutMs' }));
  await assert.rejects(untyped.callWith({ signal: {} }, 'tick'), typed('ERR_INVALID_OPTIONS', { option: 'signal' }));
  await assert.rejects(untyped.callWith('tick', 'tick'), typed('ERR_INVALID_OPTIONS', { option: 'options' }));
  await assert.rejects(untyped.callWith(null, 'tick'), typed('ERR_INVALID_OPTIONS', { option: 'options' }));
  await assert.rejects(untyped.callWith({}, 'nope'), typed('ERR_UNKNOWN_FUNCTION', { function: 'nope' }));
  assert.equal(await host.callWith({}, 'act', ACT.RETURN), 5);
});

test('AddonHost.callWith: the same options; an aborted signal rejects ERR_CALL_ABORTED before the addon runs', async (t) => {
  const addon = await createAddonHost<TestAddon>({ addon: await buildAddon(1) });
  t.after(() => addon.close());
  assert.equal(await addon.callWith({ timeoutMs: 5000 }, 'tick', 5), 6);
  await assert.rejects(addon.callWith({ signal: AbortSignal.abort() }, 'tick', 5), typed('ERR_CALL_ABORTED', { started: false, function: 'tick' }));
  await assert.rejects(addon.callWith({ timeoutMs: -5 }, 'tick', 5), typed('ERR_INVALID_OPTIONS', { option: 'timeoutMs' }));
});
