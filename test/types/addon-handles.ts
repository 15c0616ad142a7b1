// Compile-only checks (tsc fails the build if one is wrong): handles and exports typed from
// an addon's module type, as napi-rs writes index.d.ts. Never run.
import type { AddonExports, AddonHost, AddonValues, Handle } from '../../src/index.js';

declare class Counter {
  constructor(start: number);
  add(n: number): number;
  get(): number;
  label: string;
}
interface Module {
  Counter: typeof Counter;
  hash(data: Uint8Array): bigint;
  xxh3: { xxh64(data: Uint8Array): bigint; seed: number };
  version: string;
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
export const checks: [
  Equal<AddonExports<Module>['Counter'], new (start: number) => Promise<Handle<Counter>>>,
  Equal<Handle<Counter>['add'], (n: number) => Promise<number>>,
  Equal<Handle<Counter>['label'], () => Promise<string>>,
  Equal<AddonExports<Module>['xxh3']['xxh64'], (data: Uint8Array) => Promise<bigint>>,
  Equal<keyof AddonExports<Module>, 'Counter' | 'hash' | 'xxh3'>,
  Equal<AddonValues<Module>, { readonly version: string }>,
] = [true, true, true, true, true, true];

export async function use(addon: AddonHost<Module>, fn: AddonHost<((s: string) => boolean) & { version: string }>): Promise<void> {
  const c: Handle<Counter> = await new addon.exports.Counter(5);
  const n: number = await c.add(2);
  // @ts-expect-error add takes a number
  await c.add('2');
  // @ts-expect-error a handle's methods return promises
  const sync: number = c.get();
  await c[Symbol.asyncDispose]();
  // @ts-expect-error Counter takes a number
  await new addon.exports.Counter('5');
  const h: bigint = await addon.exports.xxh3.xxh64(new Uint8Array(1));
  const v: string = addon.values.version;
  // @ts-expect-error values are not called
  void addon.exports.version;
  const valid: boolean = await fn.exports('x');
  void [n, sync, h, v, valid];
}
