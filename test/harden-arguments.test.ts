// Issue 15, rows "a number for a const char *" and "integers out of range": arguments are
// checked against the prototype on every path (call, callSync; both isolations), in a
// child process where the failure once was a dead host.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';
import { ARGS_FUNCTIONS, ARGS_SOURCE, inChild } from './helpers/harden-fixtures.js';

let library = '';
before(async () => { library = await buildC(ARGS_SOURCE); });
after(removeTempDirs);

/** [row, function, arguments, the position and type the error must name]. */
const BAD: Array<[string, keyof typeof ARGS_FUNCTIONS, unknown[], number, string]> = [
  ['a number for a const char * (thread: SIGSEGV of the host)', 'len', [0x1000], 1, 'char *'],
  ['a BigInt for a const uint8_t * (an address)', 'first', [4096n], 1, 'uint8_t *'],
  ['undefined for a pointer', 'first', [undefined], 1, 'uint8_t *'],
  ['add(2**40, 1) (wrapped to 1)', 'add', [2 ** 40, 1], 1, 'int32_t'],
  ['u8(300) (wrapped to 44)', 'u8', [300], 1, 'uint8_t'],
  ['u8(-1)', 'u8', [-1], 1, 'uint8_t'],
  ['NaN for an int32_t (became 0)', 'add', [1, Number.NaN], 2, 'int32_t'],
  ['1.5 for an int32_t', 'add', [1.5, 1], 1, 'int32_t'],
  ['a BigInt for an int32_t (accepted)', 'add', [1n, 1], 1, 'int32_t'],
  ['2**53 for an int64_t (lost its low bits)', 'add64', [2 ** 53, 0], 1, 'int64_t'],
  ['2n**63n for an int64_t', 'add64', [0, 2n ** 63n], 2, 'int64_t'],
  ['a string for a double', 'half', ['1'], 1, 'double'],
  ['1 for a bool', 'flag', [1], 1, 'bool'],
];

/** The rows whose failure was a dead host (an address passed to koffi): each runs in a
 *  child process. */
const deadly = (args: unknown[]): boolean => typeof args[0] === 'number' || typeof args[0] === 'bigint';
const POINTERS = new Set(['len', 'first']);

for (const isolation of ['thread', 'process'] as const) {
  describe(`bad arguments (${isolation})`, () => {
    let host: IsolatedHost;
    before(async () => { host = await createIsolatedHost({ library, functions: ARGS_FUNCTIONS, isolation }); });
    after(() => host.close());
    for (const sync of [false, true]) {
      for (const [row, name, args, position, type] of BAD) {
        test(`ERR_BAD_ARGUMENTS, ${sync ? 'callSync' : 'call'}: ${row}`, async () => {
          let result: any;
          if (POINTERS.has(name) && deadly(args)) {
            const child = await inChild('call', { library, functions: ARGS_FUNCTIONS, isolation, name, args, sync });
            assert.equal(child.signal, null, 'the host process is alive');
            assert.equal(child.status, 0);
            result = child.result;
          } else {
            try {
              result = { value: sync ? host.callSync(name, ...args) : await host.call(name, ...args) };
            } catch (err) {
              result = err instanceof IsoswapError ? { code: err.code, details: err.details, message: err.message } : { untyped: String(err) };
            }
          }
          assert.equal(result?.code, 'ERR_BAD_ARGUMENTS', JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
          assert.deepEqual([result.details.function, result.details.position, result.details.type], [name, position, type]);
          assert.ok(result.message.includes(`argument ${position} (${type})`) && /must be/.test(result.message), result.message);
        });
      }
    }
    test('the version that refused them still serves', async () => {
      assert.equal(host.current.id, 1);
      assert.equal(await host.call('add', 1, 2), 3);
    });
  });
}

for (const isolation of ['thread', 'process'] as const) {
  test(`what fits the prototype passes unchanged (${isolation})`, async (t) => {
    const host: IsolatedHost = await createIsolatedHost({ library, functions: ARGS_FUNCTIONS, isolation });
    t.after(() => host.close());
    assert.equal(await host.call('add', 2 ** 31 - 1, 0), 2 ** 31 - 1);
    assert.equal(await host.call('u8', 255), 255);
    assert.equal(host.callSync('u8', 0), 0);
    assert.equal(BigInt(await host.call('add64', 2n ** 62n, 1n)), 2n ** 62n + 1n);
    assert.equal(Number(await host.call('add64', Number.MAX_SAFE_INTEGER - 1, 1)), Number.MAX_SAFE_INTEGER);
    assert.equal(await host.call('len', 'héllo'), 6);
    assert.equal(await host.call('len', null), 0);
    assert.equal(await host.call('first', Buffer.from([7])), 7);
    assert.equal(await host.call('first', new Uint8Array([9])), 9);
    assert.equal(await host.call('first', null), -1);
    assert.equal(await host.call('half', Number.NaN), Number.NaN);
    assert.equal(host.callSync('flag', true), 1);
    await assert.rejects(host.call('add', 1), (err: unknown) =>
      err instanceof IsoswapError && err.code === 'ERR_BAD_ARGUMENTS' && err.details['expected'] === 2 && err.details['given'] === 1);
  });
}
