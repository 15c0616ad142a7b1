// Builds the addon of the addon-values tests (test/fixtures/addon-values.c) with gcc
// against the node-api-headers package, as helpers/addon.ts builds the plain test addon.
import { fileURLToPath } from 'node:url';
import { buildAddonFrom } from './addon.js';

const SOURCE = fileURLToPath(new URL('../../../test/fixtures/addon-values.c', import.meta.url));

/** The TypeScript shape of its exports (what napi-rs would generate as index.d.ts). */
export declare class Counter {
  constructor(start: number);
  add(n: number): number;
  get(): number;
  build(): number;
}
export interface ValuesAddon {
  Counter: typeof Counter;
  makeCounter(start: number): Counter;
  callTwice(fn: (x: number) => number, x: number): number;
  callNow<T>(fn: (x: number) => T, x: number): T;
  fill(view: Uint8Array, byte: number): number;
  isBuffer(value: unknown): boolean;
  makeBuffer(n: number): Buffer;
  byteLength(view: Uint8Array): [number, number];
  throwWithProps(): never;
  waitAbort(signal: AbortSignal): Promise<unknown>;
  ns: { build(): number };
  VERSION: string;
}

/**
 * Puts the values addon built with `-DBUILD=build` (and `defines`) at `out` (default: a new
 * temp dir), renamed into place as a linker's output appears; gcc runs once per variant.
 *
 * @example
 * const file = await buildValuesAddon(1); await buildValuesAddon(2, file);
 */
export function buildValuesAddon(build: number, out?: string, defines: string[] = []): Promise<string> {
  return buildAddonFrom(SOURCE, build, out, defines);
}
