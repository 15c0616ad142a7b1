// Issue 15, rows "threads", "state.bytes", timeouts, wrong types and `__proto__`: every
// option is checked whole, in a child process where the failure once was a dead host.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHostOptions } from '../src/index.js';
import { buildC, removeTempDirs, tickSource } from './helpers/native.js';
import { inChild } from './helpers/harden-fixtures.js';

after(removeTempDirs);

const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };

/** [row, options (library filled in), the option the error must name]. */
const ROWS: Array<[string, Record<string, unknown>, string]> = [
  ['threads: 1e9 (aborted: heap out of memory)', { threads: 1e9 }, 'threads'],
  ['threads: 100000 (blocked the event loop spawning workers)', { threads: 100_000 }, 'threads'],
  ['state.bytes: 2^32 (process: aborted in koffi.view, /dev/shm file left)', { state: { bytes: 2 ** 32 }, isolation: 'process' }, 'state.bytes'],
  ['state.bytes: 2^32 (thread: an untyped RangeError)', { state: { bytes: 2 ** 32 } }, 'state.bytes'],
  ['callTimeoutMs: 2^31 (became 1 ms)', { callTimeoutMs: 2 ** 31 }, 'callTimeoutMs'],
  ['drainTimeoutMs: 2^31 (became 1 ms)', { drainTimeoutMs: 2 ** 31 }, 'drainTimeoutMs'],
  ['loadTimeoutMs: 2^31 (became 1 ms)', { loadTimeoutMs: 2 ** 31 }, 'loadTimeoutMs'],
  ['hookTimeoutMs: 2^31', { hookTimeoutMs: 2 ** 31 }, 'hookTimeoutMs'],
  ['state: null (a TypeError)', { state: null }, 'state'],
  ['tempDir: 42 (accepted)', { tempDir: 42 }, 'tempDir'],
  ['watch: "yes" (accepted)', { watch: 'yes' }, 'watch'],
  ['functions: [] (accepted)', { functions: [] }, 'functions'],
  ['a prototype that is not a string', { functions: { f: 42 } }, 'functions.f'],
  ['isolation: "fork"', { isolation: 'fork' }, 'isolation'],
  ['keepBuilds: 0.5', { keepBuilds: 0.5 }, 'keepBuilds'],
  ['an unknown option', { threds: 2 }, 'threds'],
];

for (const [row, options, option] of ROWS) {
  test(`ERR_INVALID_OPTIONS names the option: ${row}`, async () => {
    const library = await buildC(tickSource(1));
    const { result, status, signal } = await inChild('options', { options: { library, functions: FUNCTIONS, ...options } });
    assert.equal(signal, null, 'the process is alive');
    assert.equal(status, 0);
    assert.equal(result?.code, 'ERR_INVALID_OPTIONS', JSON.stringify(result));
    assert.equal(result.details.option, option);
    assert.ok(result.message.includes(`\`${option}\``), result.message);
  });
}

test('an unknown option gets a "did you mean", and the allowed range is named', async () => {
  await assert.rejects(createIsolatedHost({ library: 'x', functions: FUNCTIONS, threds: 2 } as IsolatedHostOptions), (err: unknown) => {
    assert.ok(err instanceof IsoswapError && err.code === 'ERR_INVALID_OPTIONS');
    assert.match(err.message, /did you mean `threads`\?/);
    assert.equal(err.details['suggestion'], 'threads');
    return true;
  });
  await assert.rejects(createIsolatedHost({ library: 'x', functions: FUNCTIONS, threads: 65 }), /from 1 to 64/);
  await assert.rejects(createIsolatedHost({ library: 'x', functions: FUNCTIONS, callTimeoutMs: -1 }), /from 0 to 2147483647/);
  await assert.rejects(createIsolatedHost({ library: 'x', functions: FUNCTIONS, state: { bytes: 8, extra: 1 } as { bytes: number } }),
    { code: 'ERR_INVALID_OPTIONS', details: { option: 'state.extra', allowed: ['bytes'] } });
});

test('the limits themselves are accepted: threads 64 is checked, the largest timeout serves', async () => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, callTimeoutMs: 2 ** 31 - 1, drainTimeoutMs: 2 ** 31 - 1, hookTimeoutMs: 0 });
  try {
    assert.equal(await host.call('do_tick', 1), 2, 'a call does not time out after 1 ms');
  } finally {
    await host.close();
  }
});

for (const isolation of ['thread', 'process'] as const) {
  test(`a function declared under the key __proto__ is callable (${isolation})`, async () => {
    const library = await buildC(tickSource(1));
    const functions = JSON.parse('{"__proto__": "int32_t do_tick(int32_t)", "constructor": "int32_t version(void)"}') as Record<string, string>;
    const host = await createIsolatedHost({ library, functions, isolation });
    try {
      assert.equal(await host.call('__proto__', 1), 2);
      assert.equal(host.callSync('__proto__', 2), 3);
      assert.equal(await host.fns['__proto__']!(3), 4);
      assert.equal(await host.call('constructor'), 1);
      await assert.rejects(host.call('__proto__', 1, 2), { code: 'ERR_BAD_ARGUMENTS' });
      await assert.rejects(host.call('toString'), { code: 'ERR_UNKNOWN_FUNCTION' });
    } finally {
      await host.close();
    }
  });
}
