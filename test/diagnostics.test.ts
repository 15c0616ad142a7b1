// node:diagnostics_channel: every host publishes its swaps on `isoswap:swap` and its
// crashes on `isoswap:crash` (and load, retired, swap-failed, error, close), on the host's
// thread, whether or not anyone listens to its events; the message names the host the
// program holds.
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { rename, writeFile } from 'node:fs/promises';
import { after, test, type TestContext } from 'node:test';
import { threadId } from 'node:worker_threads';
import { createAddonHost, createIsolatedHost, DIAGNOSTICS_CHANNELS, IsoswapError, type DiagnosticsMessages, type SwapEvent } from '../src/index.js';
import { ACT, ACT_FUNCTIONS, actSource } from './helpers/act-fixture.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

type Channel = keyof DiagnosticsMessages;
interface Seen { channel: Channel; message: DiagnosticsMessages[Channel]; threadId: number }

/** Subscribes to every isoswap channel for the test's length; what arrives, in order. */
function subscribeAll(t: TestContext): Seen[] {
  const seen: Seen[] = [];
  for (const channel of Object.values(DIAGNOSTICS_CHANNELS)) {
    const listener = (message: unknown): void => { seen.push({ channel, message: message as DiagnosticsMessages[Channel], threadId }); };
    diagnosticsChannel.subscribe(channel, listener);
    t.after(() => diagnosticsChannel.unsubscribe(channel, listener));
  }
  return seen;
}

test('a subscriber on isoswap:swap and isoswap:crash sees a reload and a crash (and the restart), with the host, on its thread', async (t) => {
  const seen = subscribeAll(t);
  const library = await buildC(actSource(1));
  const host = await createIsolatedHost({ library, functions: ACT_FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  const mine = (channel: Channel) => seen.filter((s) => s.channel === channel && s.message.host === host).map((s) => s.message);

  await buildC(actSource(2), library);
  const reloaded = await host.reload();
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  await assert.rejects(host.call('act', ACT.SEGFAULT), { code: 'ERR_VERSION_CRASHED' }); // no 'error' listener: a warning
  await restarted;

  const swaps = mine('isoswap:swap') as DiagnosticsMessages['isoswap:swap'][];
  assert.deepEqual(swaps.map((s) => [s.reason, s.from.id, s.to.id]), [['reload', 1, 2], ['restart', 2, 3]]);
  assert.equal(swaps[0]!.to.sha256, reloaded.sha256);
  assert.equal(typeof swaps[0]!.ms, 'number');
  const crashes = mine('isoswap:crash') as DiagnosticsMessages['isoswap:crash'][];
  assert.equal(crashes.length, 1);
  assert.equal(crashes[0]!.version.id, 2);
  assert.equal(crashes[0]!.error.code, 'ERR_VERSION_CRASHED');
  assert.deepEqual((mine('isoswap:error') as DiagnosticsMessages['isoswap:error'][]).map((m) => m.error.code), ['ERR_VERSION_CRASHED'],
    'published although nobody listens for `error`');
  assert.deepEqual((mine('isoswap:load') as DiagnosticsMessages['isoswap:load'][]).map((m) => m.version.id), [1]);
  assert.ok(seen.every((s) => s.threadId === threadId), 'published on the host\'s thread');
});

test('isoswap:swap-failed carries a reload that was refused; isoswap:retired and isoswap:close follow the host', async (t) => {
  const seen = subscribeAll(t);
  const library = await buildC(actSource(1));
  const host = await createIsolatedHost({ library, functions: ACT_FUNCTIONS });
  const mine = (channel: Channel) => seen.filter((s) => s.channel === channel && s.message.host === host).map((s) => s.message);
  await writeFile(library, 'not a library');
  await assert.rejects(host.reload(), { code: 'ERR_NOT_A_LIBRARY' });
  const failed = mine('isoswap:swap-failed') as DiagnosticsMessages['isoswap:swap-failed'][];
  assert.deepEqual(failed.map((m) => [m.reason, m.error.code]), [['reload', 'ERR_NOT_A_LIBRARY']]);
  await host.close();
  assert.deepEqual((mine('isoswap:retired') as DiagnosticsMessages['isoswap:retired'][]).map((m) => m.version.id), [1]);
  assert.equal(mine('isoswap:close').length, 1);
  assert.deepEqual(mine('isoswap:swap'), [], 'no swap happened');
});

test('isoswap:swap-failed carries a broken build the watcher found, with reason watch', async (t) => {
  const seen = subscribeAll(t);
  const library = await buildC(actSource(1));
  const host = await createIsolatedHost({ library, functions: ACT_FUNCTIONS, watch: true });
  t.after(() => host.close());
  const reported = new Promise<IsoswapError>((resolve) => host.once('error', resolve));
  await writeFile(`${library}.part`, 'not a library either');
  await rename(`${library}.part`, library); // one complete save
  assert.equal((await reported).code, 'ERR_NOT_A_LIBRARY');
  const failed = seen.filter((s) => s.channel === 'isoswap:swap-failed' && s.message.host === host).map((s) => s.message as DiagnosticsMessages['isoswap:swap-failed']);
  assert.deepEqual(failed.map((m) => [m.reason, m.error.code]), [['watch', 'ERR_NOT_A_LIBRARY']]);
  assert.equal(await host.call('act', ACT.RETURN), 1, 'the current version serves on');
});

test('isoswap:warning carries what the warning event carries, listened for or not', async (t) => {
  const seen = subscribeAll(t);
  const host = await createIsolatedHost({ library: await buildC(actSource(1)), functions: ACT_FUNCTIONS });
  t.after(() => host.close());
  // The host's own path (an _Out_ buffer lost: test/edges-buffers.test.ts) ends here
  const lost = new IsoswapError('ERR_BUFFER_LOST', 'the bytes of an _Out_ buffer could not be written back');
  const warned = once(process, 'warning');
  host.reportWarning(lost); // nobody listens: a process warning, and the channel
  await warned;
  const heard: IsoswapError[] = [];
  host.on('warning', (err) => heard.push(err));
  host.reportWarning(lost);
  assert.deepEqual(heard, [lost]);
  const published = seen.filter((s) => s.channel === 'isoswap:warning' && s.message.host === host);
  assert.deepEqual(published.map((s) => (s.message as DiagnosticsMessages['isoswap:warning']).error), [lost, lost]);
});

test('an AddonHost publishes as itself, once per event', async (t) => {
  const seen = subscribeAll(t);
  const path = await buildAddon(1);
  const addon = await createAddonHost<TestAddon>({ addon: path });
  t.after(() => addon.close());
  await buildAddon(2, path);
  await addon.reload();
  const swaps = seen.filter((s) => s.channel === 'isoswap:swap');
  assert.equal(swaps.length, 1, 'the library host under it does not publish too');
  assert.equal(swaps[0]!.message.host, addon);
  assert.equal(seen.find((s) => s.channel === 'isoswap:load')?.message.host, addon);
});
