// exportTable reads an addon's module.exports as it is: a function itself, nested functions
// by path, classes, AsyncFunctions (refused by callSync before they run), values read once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportTable } from '../../src/runtime/addon-exports.js';

test('exportTable: functions by path, classes, AsyncFunctions, values; the hooks hidden', () => {
  class Counter { add(): number { return 1; } }
  const root = Object.assign(() => 1, { version: '1.2.3' });
  const exported = {
    tick: () => 1,
    Counter,
    later: async () => { await Promise.resolve(); return 2; },
    xxh3: { xxh64: () => 3, seed: 7, deeper: { f: () => 4 } },
    BUILD: 5,
    symbol: Symbol('s'),
    isoswapLoad: () => 0,
  };
  const { functions, report } = exportTable(exported, ['isoswapLoad']);
  assert.deepEqual(report.functions.sort(), ['Counter', 'later', 'tick', 'xxh3.deeper.f', 'xxh3.xxh64']);
  assert.deepEqual(report.classes, ['Counter']);
  assert.deepEqual(report.async, ['later']);
  assert.deepEqual(report.values, { 'xxh3.seed': 7, BUILD: 5 });
  assert.equal(report.callable, false);
  assert.equal(functions.get('xxh3.xxh64')?.(), 3);
  assert.ok(functions.has('isoswapLoad'), 'a hook is served to the host\'s hook runner, not listed');

  const fn = exportTable(root, []);
  assert.equal(fn.report.callable, true);
  assert.equal(fn.functions.get('')?.(), 1);
  assert.deepEqual(fn.report.values, { version: '1.2.3' });
});

test('exportTable: exports defined non-enumerable (napi_define_properties with napi_default, as Node-API\'s docs show) are found', () => {
  const exported = {};
  Object.defineProperty(exported, 'tick', { value: () => 1, enumerable: false });
  Object.defineProperty(exported, 'ns', { value: Object.defineProperty({}, 'f', { value: () => 2, enumerable: false }), enumerable: false });
  Object.defineProperty(exported, 'VERSION', { value: 3, enumerable: false });
  Object.defineProperty(exported, 'broken', { get() { throw new Error('no'); }, enumerable: false });
  const { functions, report } = exportTable(exported, []);
  assert.deepEqual(report.functions.sort(), ['ns.f', 'tick']);
  assert.deepEqual(report.values, { VERSION: 3 });
  assert.equal(functions.get('ns.f')?.(), 2);
  const root = Object.defineProperty(() => 0, 'helper', { value: () => 4, enumerable: false });
  assert.deepEqual(exportTable(root, []).report.functions, ['helper'], 'a function\'s own length, name and prototype are not exports');
});
