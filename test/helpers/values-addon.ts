// Builds the addon of the addon-values tests (test/fixtures/addon-values.c) with gcc
// against the node-api-headers package, as helpers/addon.ts builds the plain test addon.
import { execFile } from 'node:child_process';
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NODE_API_INCLUDE } from './addon.js';
import { makeTempDir } from './native.js';

const run = promisify(execFile);
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

const compiled = new Map<string, Promise<string>>();

/**
 * Puts the values addon built with `-DBUILD=build` (and `defines`) at `out` (default: a new
 * temp dir), renamed into place as a linker's output appears; gcc runs once per variant.
 *
 * @example
 * const file = await buildValuesAddon(1); await buildValuesAddon(2, file);
 */
export async function buildValuesAddon(build: number, out?: string, defines: string[] = []): Promise<string> {
  const key = [build, ...defines].join(' ');
  if (!compiled.has(key)) {
    compiled.set(key, (async () => {
      const file = join(await makeTempDir('isoswap-values-build-'), 'values.node');
      await run('gcc', ['-shared', '-fPIC', '-O2', '-I', NODE_API_INCLUDE, `-DBUILD=${build}`, ...defines.map((d) => `-D${d}`), '-o', file, SOURCE]);
      return file;
    })());
  }
  const built = await compiled.get(key)!;
  const target = out ?? join(await makeTempDir('isoswap-values-'), 'values.node');
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await copyFile(built, tmp);
  await rename(tmp, target);
  return target;
}
