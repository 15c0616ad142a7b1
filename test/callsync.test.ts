// host.callSync: the blocking form of host.call, for game loops. Same results as call,
// typed errors, functions off the fast channel too, and never on a version that is
// handing the state block over (it waits for the hand-over instead).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { buildC, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FUNCTIONS = {
  do_tick: 'int32_t do_tick(int32_t)',
  version: 'int32_t version(void)',
  name: 'const char *name(void)',
};
const named = (k: number): string => tickSource(k, `const char *name(void) { return "build ${k}"; }`);

test('callSync returns what call returns, on the version serving now', async (t) => {
  const library = await buildC(named(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => host.close());
  for (const x of [0, 1, -7, 2147483647]) assert.equal(host.callSync('do_tick', x), await host.call('do_tick', x));
  assert.equal(host.callSync('name'), 'build 1', 'a function off the fast channel takes the blocking message path');
  await buildC(named(2), library);
  await host.reload();
  assert.equal(host.callSync('version'), 2);
  assert.equal(host.callSync('do_tick', 40), 42);
  assert.equal(host.callSync('name'), 'build 2');
});

test('callSync errors are typed: unknown function, bad arguments, closed host', async () => {
  const library = await buildC(named(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  try {
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof IsoswapError, String(err));
        return err.code;
      }
      return 'no error';
    };
    assert.equal(code(() => host.callSync('nope' as 'do_tick', 1)), 'ERR_UNKNOWN_FUNCTION');
    assert.equal(code(() => host.callSync('do_tick', 'one')), 'ERR_BAD_ARGUMENTS');
    assert.equal(code(() => host.callSync('do_tick')), 'ERR_BAD_ARGUMENTS');
    assert.equal(code(() => host.callSync('do_tick', {})), 'ERR_BAD_ARGUMENTS');
    assert.equal(host.callSync('do_tick', 1), 2, 'the version still serves after bad calls');
    await host.close();
    assert.equal(code(() => host.callSync('do_tick', 1)), 'ERR_HOST_CLOSED');
  } finally {
    await host.close();
  }
});

test('callSync during a state hand-over waits for it and never runs on the version being unloaded', async (t) => {
  // isoswap_unload marks the version unloaded and takes 300 ms: a call that ran on it
  // during the hand-over would return -1000. (test/gameloop.test.ts: the wait and its bound.)
  const source = (k: number): string => `#include <stdint.h>
#include <unistd.h>
static int32_t unloaded;
int32_t do_tick(int32_t x) { return unloaded ? -1000 : x + ${k}; }
int32_t version(void) { return ${k}; }
const char *name(void) { return "build ${k}"; }
void isoswap_unload(void *state, uint32_t bytes) { unloaded = 1; usleep(300000); }
`;
  const library = await buildC(source(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, state: { bytes: 64 } });
  t.after(() => host.close());
  await buildC(source(2), library);
  let settled = false;
  const reload = host.reload().finally(() => { settled = true; });
  const outcomes: Array<number | string> = [];
  while (!settled) {
    try {
      outcomes.push(host.callSync('do_tick', 1));
    } catch (err) {
      outcomes.push((err as IsoswapError).code);
    }
    await sleep(2);
  }
  await reload;
  assert.ok(outcomes.every((o) => o === 2 || o === 3), `only v1 or v2, never refused: ${outcomes.join(' ')}`);
  assert.equal(host.callSync('do_tick', 1), 3, 'after the swap callSync serves the new version');
});

test('callSync honours callTimeoutMs: ERR_CALL_TIMEOUT, then the version is replaced as for call', async (t) => {
  const source = (k: number): string => tickSource(k, `#include <unistd.h>
int32_t slow(int32_t ms) { usleep(ms * 1000); return ms; }
const char *name(void) { usleep(400000); return "slow build"; }`);
  const library = await buildC(source(1));
  const host = await createIsolatedHost({ library, functions: { ...FUNCTIONS, slow: 'int32_t slow(int32_t)' }, callTimeoutMs: 100 });
  t.after(() => host.close());
  assert.equal(host.callSync('slow', 1), 1);
  const replaced = new Promise((resolve) => host.once('swap', resolve));
  assert.throws(() => host.callSync('slow', 400), { code: 'ERR_CALL_TIMEOUT' });
  await replaced;
  assert.equal(host.callSync('do_tick', 1), 2, 'the replacement serves');
  const replacedAgain = new Promise((resolve) => host.once('swap', resolve));
  assert.throws(() => host.callSync('name'), { code: 'ERR_CALL_TIMEOUT' }, 'the blocking message path too');
  await replacedAgain;
  assert.equal(host.callSync('slow', 1), 1);
});
