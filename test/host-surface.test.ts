// What a user can reach on a host, and what not: close({ force: true }) ends calls in
// flight at once; Symbol.asyncDispose closes; crashPolicy is an option; hosts are made
// only by their factories; reload() takes no reason.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  AddonHost, createAddonHost, createIsolatedHost, IsolatedHost, IsoswapError, type SwapEvent, type VersionInfo,
} from '../src/index.js';
import { ACT, ACT_FUNCTIONS, actHost, actSource, alive, childPids } from './helpers/act-fixture.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { buildC, holdingSource, makeTempDir, removeTempDirs, waitForFile } from './helpers/native.js';
import { typed } from './helpers/typed-error.js';

after(removeTempDirs);


test('process: close({ force: true }) rejects calls in flight at once (ERR_HOST_CLOSED, forced), also during a plain close, and kills the children', async (t) => {
  const host = await actHost(t, { isolation: 'process', threads: 2 });
  const never = join(await makeTempDir(), 'never');
  const hung = host.call('act', ACT.HANG);
  const waiting = host.call('wait_file', never);
  const plain = host.close(); // would wait for both calls (up to drainTimeoutMs)
  await assert.rejects(host.call('act', ACT.RETURN), typed('ERR_HOST_CLOSED'));
  const children = childPids();
  assert.ok(children.length >= 2, 'the two children serving');
  const forced = host.close({ force: true });
  assert.equal(forced, plain, 'one close');
  await assert.rejects(hung, typed('ERR_HOST_CLOSED', { forced: true }));
  await assert.rejects(waiting, typed('ERR_HOST_CLOSED', { forced: true }));
  await forced;
  assert.deepEqual(children.filter(alive), [], 'every child is gone');
  await assert.rejects(host.call('act', ACT.RETURN), typed('ERR_HOST_CLOSED', { forced: true }));
  await host.close({ force: true }); // idempotent
});

test('thread: close({ force: true }) rejects a call stuck in native code at once; the thread is reported stuck, not waited for', async (t) => {
  const host = await createIsolatedHost({ library: await buildC(holdingSource(1)), functions: { hold: 'int32_t hold(const char *started, const char *go)' } });
  t.after(() => host.close());
  const warnings: IsoswapError[] = [];
  host.on('error', (err) => warnings.push(err));
  const dir = await makeTempDir();
  const [started, go] = [join(dir, 'started'), join(dir, 'go')];
  const stuck = host.call('hold', started, go);
  await waitForFile(started); // in native code now: the thread cannot be stopped
  const order: string[] = [];
  const rejected = assert.rejects(stuck, typed('ERR_HOST_CLOSED', { forced: true })).then(() => order.push('call rejected'));
  await host.close({ force: true }).then(() => order.push('closed'));
  await rejected;
  assert.deepEqual(order, ['call rejected', 'closed'], 'the call did not wait for the end of the thread');
  assert.deepEqual(warnings.map((e) => e.code), ['ERR_THREAD_STUCK']);
  await writeFile(go, ''); // the native call returns: the thread ends, the test process may exit
});

test('close({ force: true }) rejects calls held during a crash restart at once', async (t) => {
  const host = await actHost(t, { isolation: 'process' });
  const held = new Promise<{ call: Promise<unknown>; closing: Promise<void> }>((resolve) => host.once('crash', () => {
    const call = host.call('act', ACT.RETURN); // held until the restart serves
    resolve({ call, closing: host.close({ force: true }) });
  }));
  await assert.rejects(host.call('act', ACT.SEGFAULT), typed('ERR_VERSION_CRASHED'));
  const { call, closing } = await held;
  await assert.rejects(call, typed('ERR_HOST_CLOSED', { forced: true }));
  await closing;
  assert.equal(host.closed, true);
});

test('close() options are checked', async (t) => {
  const host = await actHost(t);
  const untyped = host as unknown as { close(options: unknown): Promise<void> };
  await assert.rejects(untyped.close({ forse: true }), typed('ERR_INVALID_OPTIONS', { option: 'forse', suggestion: 'force' }));
  await assert.rejects(untyped.close({ force: 'yes' }), typed('ERR_INVALID_OPTIONS', { option: 'force' }));
  await assert.rejects(untyped.close(1), typed('ERR_INVALID_OPTIONS', { option: 'options' }));
  assert.equal(host.closed, false, 'a refused close closes nothing');
  assert.equal(await host.call('act', ACT.RETURN), 5);
});

test('Symbol.asyncDispose closes both hosts: `await using`', async () => {
  let library: IsolatedHost<typeof ACT_FUNCTIONS> | undefined;
  let addon: AddonHost<TestAddon> | undefined;
  {
    await using scoped = await createIsolatedHost({ library: await buildC(actSource(5)), functions: ACT_FUNCTIONS });
    await using scopedAddon = await createAddonHost<TestAddon>({ addon: await buildAddon(1) });
    assert.equal(await scoped.call('act', ACT.RETURN), 5);
    assert.equal(await scopedAddon.exports.tick(1), 2);
    [library, addon] = [scoped, scopedAddon];
  }
  assert.equal(library.closed, true);
  assert.equal(addon.closed, true);
  await assert.rejects(library.call('act', ACT.RETURN), typed('ERR_HOST_CLOSED'));
  assert.equal(library[Symbol.asyncDispose], library[Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose], 'the key Node uses');
});

test('crashPolicy { max: 1 }: the first crash of a build rolls back instead of restarting it', async (t) => {
  const library = await buildC(actSource(1));
  const host = await actHost(t, { library, isolation: 'process', crashPolicy: { max: 1, windowMs: 60_000 } });
  await buildC(actSource(2), library);
  await host.reload();
  const swapped = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  await assert.rejects(host.call('act', ACT.SEGFAULT), typed('ERR_VERSION_CRASHED'));
  const swap = await swapped;
  assert.equal(swap.reason, 'rollback', 'the default policy (3 in 10 s) would restart');
  assert.equal(await host.call('act', ACT.RETURN), 1);
});

test('crashPolicy is checked: ERR_INVALID_OPTIONS names the field', async () => {
  const library = await buildC(actSource(1));
  const bad = (crashPolicy: unknown) => createIsolatedHost({ library, functions: ACT_FUNCTIONS, crashPolicy: crashPolicy as { max: number } });
  await assert.rejects(bad({ max: 0 }), typed('ERR_INVALID_OPTIONS', { option: 'crashPolicy.max' }));
  await assert.rejects(bad({ max: 1.5 }), typed('ERR_INVALID_OPTIONS', { option: 'crashPolicy.max' }));
  await assert.rejects(bad({ windowMs: 0 }), typed('ERR_INVALID_OPTIONS', { option: 'crashPolicy.windowMs' }));
  await assert.rejects(bad({ window: 5 }), typed('ERR_INVALID_OPTIONS', { option: 'crashPolicy.window', suggestion: 'crashPolicy.windowMs' }));
  await assert.rejects(bad(3), typed('ERR_INVALID_OPTIONS', { option: 'crashPolicy' }));
});

test('hosts are made by their factories: `new` throws ERR_ILLEGAL_CONSTRUCTOR (and does not compile)', () => {
  // @ts-expect-error the constructor is private
  assert.throws(() => new IsolatedHost(), typed('ERR_ILLEGAL_CONSTRUCTOR', { factory: 'createIsolatedHost' }));
  // @ts-expect-error the constructor is private
  assert.throws(() => new AddonHost(), typed('ERR_ILLEGAL_CONSTRUCTOR', { factory: 'createAddonHost' }));
  const Untyped = IsolatedHost as unknown as new (...args: unknown[]) => unknown;
  assert.throws(() => new Untyped({ library: '/x' }, Symbol('createIsolatedHost')), typed('ERR_ILLEGAL_CONSTRUCTOR'));
});

test('reload() takes no reason: an argument passed anyway is not recorded', async (t) => {
  const host = await actHost(t);
  const swapped = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  // @ts-expect-error reload() takes no argument
  const info: VersionInfo = await host.reload('rollback');
  assert.equal((await swapped).reason, 'reload');
  assert.equal(info.id, 2);
});
