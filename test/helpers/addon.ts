// Builds the Node-API test addon (test/fixtures/addon.c) with gcc against the
// node-api-headers package: no node-gyp, no network; Node-API symbols resolve from the
// node binary when the addon is loaded.
import { execFile } from 'node:child_process';
import { copyFile, rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTempDir } from './native.js';

const run = promisify(execFile);
/** The headers' folder, as the package reports it. */
export const NODE_API_INCLUDE = (createRequire(import.meta.url)('node-api-headers') as { include_dir: string }).include_dir;
const ADDON_C = fileURLToPath(new URL('../../../test/fixtures/addon.c', import.meta.url));

/** The TypeScript shape of the test addon's exports (what napi-rs would generate). */
export interface TestAddon {
  tick(x: number): number;
  version(): number;
  echo<V>(value: V): V;
  fail(): never;
  jsThrow(): never;
  crash(): never;
  makeFunction(): () => number;
  addLater(a: number, b: number): Promise<number>;
  /** A CRC-32 of the bytes of a typed array or Buffer. */
  checksum(bytes: ArrayBufferView): number;
  /** Its arguments, as an array. */
  list(...args: unknown[]): unknown[];
  /** Writes `byte` into every byte of `bytes`. */
  fill(bytes: ArrayBufferView, byte: number): void;
  /** `value`, after a trip through the thread pool that first fills `bytes` with `byte`;
   *  `fail`: rejects with an Error of code ELATER instead. */
  later<V>(value: V, bytes?: ArrayBufferView, byte?: number, fail?: boolean): Promise<V>;
  readonly BUILD: number;
}

/** Each variant is compiled once per process; later builds of it are copies. */
const compiled = new Map<string, Promise<string>>();

async function compile(source: string, build: number, defines: string[]): Promise<string> {
  const out = join(await makeTempDir('isoswap-addon-build-'), 'addon.node');
  await run('gcc', ['-shared', '-fPIC', '-O2', '-I', NODE_API_INCLUDE, `-DBUILD=${build}`, ...defines.map((d) => `-D${d}`), '-o', out, source]);
  return out;
}

/**
 * Puts the test addon built with `-DBUILD=build` (and `defines`, e.g. 'INIT_THROW') at
 * `out` (default: a new temp dir/addon.node), via a side file renamed into place as a
 * linker's output appears. gcc runs once per variant.
 *
 * @example
 * const addon = await buildAddon(1); await buildAddon(2, addon); // a rebuild in place
 */
export async function buildAddon(build: number, out?: string, defines: string[] = []): Promise<string> {
  return buildAddonFrom(ADDON_C, build, out, defines);
}

/** {@link buildAddon} for another C file (test/fixtures/addon-values.c). */
export async function buildAddonFrom(source: string, build: number, out?: string, defines: string[] = []): Promise<string> {
  const key = [source, build, ...defines].join(' ');
  if (!compiled.has(key)) compiled.set(key, compile(source, build, defines));
  const built = await compiled.get(key)!;
  const target = out ?? join(await makeTempDir('isoswap-addon-'), 'addon.node');
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await copyFile(built, tmp);
  await rename(tmp, target);
  return target;
}
