// createAddonHost<typeof import('./index.js')> types host.exports from the addon's module
// type (napi-rs generates index.d.ts): each function returns a Promise of its result.
// These checks fail at compile time (npm test builds first) if the mapping is wrong.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createAddonHost, type AddonExports } from '../src/index.js';
import { buildAddon } from './helpers/addon.js';
import { removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Exports = AddonExports<typeof import('./fixtures/addon-index.js')>;
const exportTypes: [
  Equal<Exports['tick'], (x: number) => Promise<number>>,
  Equal<Exports['greet'], (name: string, loud?: boolean) => Promise<string>>,
  Equal<Exports['addLater'], (a: number, b: number) => Promise<number>>,
  Equal<keyof Exports, 'tick' | 'greet' | 'addLater'>,
] = [true, true, true, true];

test('exports, call and callSync are typed from the addon\'s module type', async (t) => {
  assert.ok(exportTypes.every(Boolean));
  const addon = await createAddonHost<typeof import('./fixtures/addon-index.js')>({ addon: await buildAddon(4) });
  t.after(() => addon.close());
  const n: number = await addon.exports.tick(1);
  const later: number = await addon.call('addLater', 1, 2);
  const now: number = addon.callSync('tick', 2);
  // @ts-expect-error a number is not a string
  const wrong: string = await addon.exports.tick(1);
  // @ts-expect-error tick takes a number
  await addon.exports.tick('1').catch(() => {});
  // @ts-expect-error BUILD is not a function
  void addon.exports.BUILD;
  assert.deepEqual([n, later, now, wrong], [5, 3, 6, 5]);

  const untyped = await createAddonHost({ addon: await buildAddon(4) });
  t.after(() => untyped.close());
  const any: unknown = await untyped.exports['tick']!(1);
  assert.equal(any, 5);
});
