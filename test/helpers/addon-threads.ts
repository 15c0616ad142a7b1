// Builds test/fixtures/addon-threads.c (the pinned-build and guest-thread addon) and the
// package-shaped fixture (an index.js that requires its .node and wraps it in a class).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NODE_API_INCLUDE } from './addon.js';
import { makeTempDir } from './native.js';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../../../test/fixtures/addon-threads.c', import.meta.url));

/** Each variant is compiled once per process; later builds of it are copies. */
const compiled = new Map<string, Promise<string>>();

/** What the variant is linked with: `nodelete` (-z nodelete); `helper` (needs libhelper.so,
 *  found through $ORIGIN: put beside the build, or left out). */
export interface ThreadsAddonVariant {
  nodelete?: boolean;
  helper?: 'beside' | 'missing';
  /** `lazy()` calls a symbol nothing defines: loadable with lazy binding only. */
  lazyMissing?: boolean;
}

async function compile(build: number, variant: ThreadsAddonVariant): Promise<string> {
  const dir = await makeTempDir('isoswap-threads-build-');
  const out = join(dir, 'addon.node');
  const link = variant.nodelete === true ? ['-Wl,-z,nodelete'] : [];
  if (variant.lazyMissing === true) link.push('-DLAZY_MISSING');
  if (variant.helper !== undefined) {
    await writeFile(join(dir, 'helper.c'), 'int helper_value(void) { return 100; }\n');
    // With a SONAME: preloaded by path, it then satisfies the addon's DT_NEEDED by name.
    await run('gcc', ['-shared', '-fPIC', '-Wl,-soname,libhelper.so', '-o', join(dir, 'libhelper.so'), join(dir, 'helper.c')]);
    link.push('-DHELPER', `-L${dir}`, '-lhelper', '-Wl,-rpath,$ORIGIN');
  }
  await run('gcc', ['-shared', '-fPIC', '-O2', '-pthread', '-I', NODE_API_INCLUDE, `-DBUILD=${build}`, '-o', out, SOURCE, ...link]);
  return out;
}

/**
 * Puts build `build` of the threads addon at `out` (default: a new temp dir/addon.node),
 * renamed into place as a linker's output appears.
 *
 * @example
 * const addon = await buildThreadsAddon(1, undefined, { nodelete: true });
 */
export async function buildThreadsAddon(build: number, out?: string, variant: ThreadsAddonVariant = {}): Promise<string> {
  const key = `${build} ${variant.nodelete === true} ${variant.helper !== undefined} ${variant.lazyMissing === true}`;
  if (!compiled.has(key)) compiled.set(key, compile(build, variant));
  const built = await compiled.get(key)!;
  const target = out ?? join(await makeTempDir('isoswap-threads-'), 'addon.node');
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await copyFile(built, tmp);
  await rename(tmp, target);
  if (variant.helper === 'beside') await copyFile(join(dirname(built), 'libhelper.so'), join(dirname(target), 'libhelper.so'));
  return target;
}

/** Where the helper variant's libhelper.so was built (the variant must have been built). */
export async function helperLibrary(build: number): Promise<string> {
  const built = await compiled.get(`${build} false true false`);
  if (built === undefined) throw new Error(`build ${build} with a helper was not built`);
  return join(dirname(built), 'libhelper.so');
}

/** The package fixture's JavaScript: a class over the native module, as real packages wrap theirs. */
const INDEX_JS = `'use strict';
const native = require('./build/Release/addon.node');
class Addon {
  constructor(binding) { this.binding = binding; this.calls = 0; }
  version() { this.calls++; return this.binding.version(); }
  describe() { return 'build ' + this.binding.version() + ' after ' + this.calls + ' call(s)'; }
}
const addon = new Addon(native);
module.exports = { version: () => addon.version(), describe: () => addon.describe() };
`;

/**
 * A package folder (package.json, index.js, build/Release/addon.node with build `build`).
 *
 * @example
 * const pkg = await buildPackage(1); // then createAddonHost({ module: pkg })
 */
export async function buildPackage(build: number): Promise<{ root: string; addon: string }> {
  const root = join(await makeTempDir('isoswap-package-'), 'pkg');
  await mkdir(join(root, 'build', 'Release'), { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'pkg', main: 'index.js' }));
  await writeFile(join(root, 'index.js'), INDEX_JS);
  const addon = await buildThreadsAddon(build, join(root, 'build', 'Release', 'addon.node'));
  return { root, addon };
}
