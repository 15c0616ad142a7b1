import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_CACHE_KEY } from '../../wire/protocol.js';

/** The worker thread's bundle (`npm run build`: workers/thread-worker.ts as one script). */
const BUNDLE = fileURLToPath(new URL('../../../workers/thread-worker.cjs', import.meta.url));

/**
 * What a worker thread runs first (an eval'd script): the bundle, compiled with the V8
 * code cache an earlier worker made when the host has one. Compiling the bundle took
 * ~2.6 ms of every new worker's start, ~0.5 ms from the cache; a cache V8 refuses (another
 * Node, other flags) only means a full compile. No `require` here: a program run with
 * `--input-type=module` (or a default type of module) evaluates it as a module.
 */
const BOOT = `const { Script } = process.getBuiltinModule('node:vm');
const { createRequire } = process.getBuiltinModule('node:module');
const { bundle } = process.getBuiltinModule('node:worker_threads').workerData;
const script = new Script('(function (require, module, exports, __filename, __dirname) {' + bundle.code + '\\n})', { filename: bundle.file, cachedData: bundle.cache });
globalThis[Symbol.for(${JSON.stringify(CODE_CACHE_KEY)})] = () => script.createCachedData();
script.runInThisContext()(createRequire(bundle.file), { exports: {} }, {}, bundle.file, ${JSON.stringify(dirname(BUNDLE))});`;

let code: string | null = null;
let cache: Uint8Array | undefined;

/**
 * The script and the `bundle` entry of workerData that start a worker thread.
 */
export function workerBoot(): { boot: string; bundle: { file: string; code: string; cache: Uint8Array | undefined } } {
  code ??= readFileSync(BUNDLE, 'utf8');
  return { boot: BOOT, bundle: { file: BUNDLE, code, cache } };
}

/** Whether the next workers start from a code cache. */
export function hasCodeCache(): boolean {
  return cache !== undefined;
}

/** Keeps the code cache a worker made (after it ran a load: the functions it compiled
 *  lazily are in it too) for every later worker of this process. */
export function keepCodeCache(bytes: Uint8Array | null): void {
  if (bytes !== null && bytes.length > 0) cache ??= bytes;
}

let servingCacheAsked = false;

/**
 * Once per process, the code cache of a worker that served calls on its ring, asked for
 * as it retires: the standby's rehearsal makes none, so a new version's first call
 * compiled the ring's serving path lazily, inside that call; from this cache on,
 * workers start with it compiled.
 */
export async function takeServingCodeCache(make: () => Promise<Uint8Array | null>): Promise<void> {
  if (servingCacheAsked) return;
  servingCacheAsked = true;
  const bytes = await make().catch(() => null);
  if (bytes !== null && bytes.length > 0) cache = bytes;
}
