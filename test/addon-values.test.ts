// What crosses to an addon and back is the value the caller passed or the addon returned,
// in both isolations: host functions the addon calls back (their return value used by the
// addon), Buffers as Buffers, a caller's buffer the addon writes into, only the bytes a view
// covers, an AbortSignal that aborts in the worker, an error's own properties, exports as
// they are (nested, a function as module.exports, values), and callSync's refusals.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createAddonHost, type IsoswapError } from '../src/index.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { buildValuesAddon, type Counter, type ValuesAddon } from './helpers/values-addon.js';
import { makeTempDir, removeTempDirs } from './helpers/native.js';
import { typed } from './helpers/typed-error.js';

after(removeTempDirs);

for (const isolation of ['thread', 'process'] as const) {
  test(`host functions passed as arguments are called back, their return values used by the addon (${isolation})`, async () => {
    const addon = await createAddonHost<ValuesAddon>({ addon: await buildValuesAddon(1), isolation });
    try {
      const seen: number[] = [];
      assert.equal(await addon.exports.callTwice((x) => { seen.push(x); return x * 10; }, 4), 4 * 10 + 5 * 10 + 1000);
      assert.deepEqual(seen, [4, 5], 'run in the host, in order');
      // An async host function: the guest waits until it settles.
      assert.equal(await addon.exports.callNow(async (x) => { await new Promise((resolve) => setImmediate(resolve)); return x * 3; }, 7), 21);
      // What the host function throws, the addon sees as an exception (and rethrows).
      await assert.rejects(addon.exports.callNow(() => { throw new RangeError('no'); }, 1), typed('ERR_ADDON_THREW', { name: 'RangeError', message: 'no' }));
      // Many at once: each answered to its own call.
      const sums = await Promise.all(Array.from({ length: 20 }, (_, i) => addon.exports.callTwice((x) => x + i, i)));
      assert.deepEqual(sums, Array.from({ length: 20 }, (_, i) => 2 * i + 1 + 2 * i + 1000));
      // Large arguments to a host function: in a child, more than the IPC pipe takes at once
      // would wait for the child's blocked event loop; refused there instead of a deadlock.
      const callNow = addon.exports.callNow as unknown as (fn: (b: Buffer) => number, b: Buffer) => Promise<number>;
      const large = callNow((b) => b.length, Buffer.alloc(300_000));
      if (isolation === 'thread') assert.equal(await large, 300_000);
      else await assert.rejects(large, (err: IsoswapError) => typed('ERR_NOT_CLONEABLE')(err) && typeof err.details.bytes === 'number');
      // callSync cannot run a host function: refused before the call leaves.
      assert.throws(() => addon.callSync('callTwice', (x: number) => x, 1), typed('ERR_NOT_CLONEABLE', { function: 'callTwice', callback: true }));
      // A callSync made while the addon waits for a host function is refused, not a deadlock.
      let release!: (value: number) => void;
      const waiting = addon.exports.callNow(() => new Promise<number>((resolve) => { release = resolve; }), 1);
      await new Promise<void>((resolve) => { const poll = (): void => { if (release === undefined) setImmediate(poll); else resolve(); }; poll(); });
      assert.throws(() => addon.callSync('makeBuffer', 1), typed('ERR_CALLBACK_PENDING'));
      release(9);
      assert.equal(await waiting, 9);
      assert.equal(addon.callSync('makeBuffer', 1).length, 1, 'callSync serves again');
    } finally {
      await addon.close();
    }
  });

  test(`buffers: what the addon writes into the caller's arrives, Buffers come back as Buffers, a view sends only its bytes (${isolation})`, async () => {
    const addon = await createAddonHost<ValuesAddon>({ addon: await buildValuesAddon(1), isolation });
    try {
      const buffer = Buffer.alloc(16);
      assert.equal(await addon.exports.fill(buffer, 7), 16);
      assert.deepEqual([...buffer], Array(16).fill(7));
      const big = new Uint8Array(1 << 20);
      const window = big.subarray(100, 111);
      assert.equal(await addon.exports.fill(window, 5), 11);
      assert.deepEqual([big[99], big[100], big[110], big[111]], [0, 5, 5, 0], 'written back into the caller\'s own bytes, only those');
      const shared = new Uint8Array(new SharedArrayBuffer(8));
      assert.equal(await addon.exports.fill(shared, 4), 8);
      assert.deepEqual([...shared], Array(8).fill(4), 'a view over shared memory too');
      assert.equal(addon.callSync('fill', buffer, 3), 16);
      assert.deepEqual([...buffer], Array(16).fill(3), 'callSync writes back too');
      const [count, backing] = await addon.exports.byteLength(Buffer.alloc(1 << 20).subarray(5, 16));
      assert.equal(count, 11);
      assert.ok(backing <= 8192, `the addon got 11 bytes (in a Buffer pool's slab at most), not the 1 MiB store (${backing})`);
      const made = await addon.exports.makeBuffer(4);
      assert.ok(Buffer.isBuffer(made));
      assert.deepEqual([...made], [0, 1, 2, 3]);
      assert.ok(Buffer.isBuffer(addon.callSync('makeBuffer', 2)));
      assert.equal(await addon.exports.isBuffer(Buffer.from('x')), true, 'a Buffer arrives as a Buffer');
      assert.equal(await addon.exports.isBuffer({ nested: Buffer.from('x') }), false);
    } finally {
      await addon.close();
    }
  });

  test(`an AbortSignal aborts in the worker; an addon's error keeps its own properties; exports as they are (${isolation})`, async () => {
    const addon = await createAddonHost<ValuesAddon>({ addon: await buildValuesAddon(3), isolation });
    try {
      const controller = new AbortController();
      const waiting = addon.exports.waitAbort(controller.signal);
      await addon.exports.ns.build(); // the call has reached the worker
      controller.abort('stop');
      assert.equal(await waiting, 'stop');
      await assert.rejects(addon.exports.throwWithProps(), typed('ERR_ADDON_THREW', { code: 'ECSS', loc: { line: 3, column: 7 }, fileName: 'style.css' }));
      assert.equal(await addon.exports.ns.build(), 3, 'a nested function');
      assert.equal(await addon.exports.ns.build.call(null), 3, 'an export is a function: call, apply and bind are Function\'s');
      assert.equal(addon.values.VERSION, 'v3', 'a value, read at load');
      assert.ok('ns' in addon.exports && 'Counter' in addon.exports);
      assert.equal(JSON.stringify(addon.exports), '{}');
    } finally {
      await addon.close();
    }
    const fn = await createAddonHost<ValuesAddon & (() => number)>({ addon: await buildValuesAddon(4, undefined, ['FUNCTION_EXPORT']), isolation });
    try {
      assert.equal(await fn.exports(), 4, 'module.exports is a function: the exports are callable');
      assert.equal(await fn.exports.ns.build(), 4);
    } finally {
      await fn.close();
    }
  });

  test(`callSync of an export that returns a Promise rejects with details.ran (${isolation})`, async () => {
    const addon = await createAddonHost<TestAddon>({ addon: await buildAddon(1), isolation });
    try {
      assert.throws(() => addon.callSync('addLater', 1, 2), typed('ERR_BAD_ARGUMENTS', { function: 'addLater', ran: true }));
    } finally {
      await addon.close();
    }
  });
}

/** A package-shaped folder: its index.js wraps the values addon in a class of its own. */
async function valuesPackage(): Promise<string> {
  const dir = await makeTempDir('isoswap-values-pkg-');
  await mkdir(join(dir, 'build', 'Release'), { recursive: true });
  await buildValuesAddon(5, join(dir, 'build', 'Release', 'values.node'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'values-pkg', version: '1.0.0', main: 'index.js' }));
  await writeFile(join(dir, 'index.js'), `const native = require('./build/Release/values.node');
class Wrapper {
  constructor(start) { this.inner = new native.Counter(start); }
  add(n) { return this.inner.add(n); }
}
module.exports = { Wrapper, version: native.VERSION, later: async (x) => x };
`);
  return dir;
}

test('a package\'s own classes are handles too, and callSync refuses its AsyncFunction before it runs', async () => {
  const addon = await createAddonHost<{ Wrapper: typeof Counter; version: string; later(x: number): Promise<number> }>({ module: await valuesPackage() });
  try {
    const wrapper = await new addon.exports.Wrapper(3);
    assert.equal(await wrapper.add(2), 5005);
    assert.equal(addon.values.version, 'v5');
    assert.throws(() => addon.callSync('later', 1), typed('ERR_BAD_ARGUMENTS', { function: 'later', ran: false }));
    assert.equal(await addon.exports.later(1), 1);
  } finally {
    await addon.close();
  }
});
