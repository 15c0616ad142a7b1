// Prepare apart from serve on one host: a build loaded and checked into a standby version
// (load hook, smoke call) while the current one serves; commit serves it, discard drops it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type SwapEvent } from '../src/index.js';
import { buildC, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };
const isCode = (code: string) => (err: unknown): boolean => err instanceof IsoswapError && err.code === code;

test('prepare loads and runs isoswap_load without serving; commit serves, with one swap event', async (t) => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => host.close());
  const swaps: SwapEvent[] = [];
  host.on('swap', (e) => swaps.push(e));
  await buildC(tickSource(2, 'int32_t isoswap_load(void *s, uint32_t b) { (void)s; (void)b; return 0; }'), library);

  const prepared = await host.prepare({ smoke: { call: 'do_tick', args: [40] } });
  assert.equal(prepared.state, 'prepared');
  assert.equal(prepared.version.status, 'loading');
  assert.ok(existsSync(prepared.version.copy), 'the standby holds its private copy');
  assert.equal(await host.call('do_tick', 1), 2, 'the current version serves while one is prepared');
  assert.equal(swaps.length, 0);

  const info = await prepared.commit();
  assert.equal(info.id, prepared.version.id);
  assert.equal(host.current.id, info.id);
  assert.equal(await host.call('do_tick', 1), 3);
  assert.deepEqual(swaps.map((s) => s.reason), ['reload']);
  await assert.rejects(prepared.commit(), isCode('ERR_PREPARED_SETTLED'));
  await assert.rejects(prepared.discard(), isCode('ERR_PREPARED_SETTLED'));
});

test('discard drops the standby: its copy is removed, the current version serves on', async (t) => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => host.close());
  const first = host.current;
  await buildC(tickSource(5), library);
  const prepared = await host.prepare();
  await prepared.discard();
  assert.equal(prepared.state, 'discarded');
  assert.equal(existsSync(prepared.version.copy), false);
  assert.equal(host.current.id, first.id);
  assert.equal(await host.call('do_tick', 1), 2);
  await assert.rejects(prepared.commit(), isCode('ERR_PREPARED_SETTLED'));
});

test('prepare refuses what reload refuses (a refusing load hook, a missing symbol, a failing smoke call)', async (t) => {
  const library = await buildC(tickSource(1));
  const served = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => served.close());

  await buildC(tickSource(2, 'int32_t isoswap_load(void *s, uint32_t b) { (void)s; (void)b; return 7; }'), library);
  await assert.rejects(served.prepare(), isCode('ERR_LOAD_HOOK'));
  await buildC('#include <stdint.h>\nint32_t other(int32_t x) { return x; }\n', library);
  await assert.rejects(served.prepare(), isCode('ERR_SYMBOL_MISSING'));
  await buildC(tickSource(3), library);
  await assert.rejects(served.prepare({ smoke: { call: 'do_tick', args: ['not a number'] } }), isCode('ERR_BAD_ARGUMENTS'));
  assert.equal(served.current.id, 1);
  assert.equal(await served.call('do_tick', 1), 2);
});

test('a fleet member refuses watch, and the fleet option is checked', async () => {
  const library = await buildC(tickSource(1));
  await assert.rejects(createIsolatedHost({ library, functions: FUNCTIONS, watch: true, fleet: { transport: 'cluster' } }), (err: unknown) => isCode('ERR_INVALID_OPTIONS')(err) && (err as IsoswapError).details['option'] === 'watch');
  await assert.rejects(createIsolatedHost({ library, functions: FUNCTIONS, fleet: { transport: 'udp' as never } }), isCode('ERR_INVALID_OPTIONS'));
  await assert.rejects(createIsolatedHost({ library, functions: FUNCTIONS, fleet: { transport: { redis: 'redis://x' } as never } }), isCode('ERR_INVALID_OPTIONS'));
  // Outside a cluster worker there is no fleet to join over cluster IPC.
  await assert.rejects(createIsolatedHost({ library, functions: FUNCTIONS, fleet: { transport: 'cluster' } }), isCode('ERR_FLEET_TRANSPORT'));
});

test('with a state block, isoswap_load runs at commit, inside the hand-over: a refusal there leaves the old version serving', async (t) => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, state: { bytes: 64 } });
  t.after(() => host.close());
  await buildC(tickSource(2, 'int32_t isoswap_load(void *s, uint32_t b) { (void)s; (void)b; return 3; }'), library);
  await assert.rejects(host.prepare({ smoke: { call: 'do_tick', args: [1] } }), isCode('ERR_INVALID_OPTIONS'));
  const prepared = await host.prepare(); // the hook has not run: it needs the old version unloaded first
  await assert.rejects(prepared.commit(), isCode('ERR_LOAD_HOOK'));
  assert.equal(host.current.id, 1);
  assert.equal(await host.call('do_tick', 1), 2);
});
