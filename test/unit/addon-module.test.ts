// The worker side of an addon load (src/runtime/addon-module.ts) and the package scan
// (src/library/package-entry.ts), run in this thread.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAddon } from '../../src/runtime/addon-module.js';
import { packageEntry } from '../../src/library/package-entry.js';
import { buildThreadsAddon, helperLibrary } from '../helpers/addon-threads.js';
import { makeTempDir, removeTempDirs } from '../helpers/native.js';
import { typed } from '../helpers/typed-error.js';

after(removeTempDirs);

test('a copy whose $ORIGIN dependency is not beside it loads with the preload the host planned, and names it without', async () => {
  const alone = await buildThreadsAddon(1, undefined, { helper: 'missing' });
  const request = { library: alone, copy: alone, functions: {}, addon: true };
  assert.throws(() => loadAddon(request), typed('ERR_DEPENDENCY_MISSING', { dependency: 'libhelper.so', file: alone }));
  const loaded = loadAddon({ ...request, preload: [await helperLibrary(1)] });
  assert.equal((loaded.exports as { version(): number }).version(), 101);
  assert.deepEqual(loaded.loaded, [alone]);
  loaded.release();
});

test('a package: the .node under build/Release is the one watched, musl builds last, other platforms left out', async () => {
  const root = join(await makeTempDir(), 'pkg');
  await mkdir(join(root, 'prebuilds', 'linux-x64'), { recursive: true });
  await mkdir(join(root, 'build', 'Release'), { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'pkg', main: 'lib/main.js', optionalDependencies: { 'pkg-absent': '1' } }));
  await mkdir(join(root, 'lib'));
  await writeFile(join(root, 'lib', 'main.js'), 'module.exports = 1;\n');
  await buildThreadsAddon(1, join(root, 'prebuilds', 'linux-x64', 'pkg.musl.node'));
  await buildThreadsAddon(1, join(root, 'prebuilds', 'linux-x64', 'pkg.glibc.node'));
  await writeFile(join(root, 'prebuilds', 'darwin.node'), 'not an ELF file');
  assert.deepEqual(packageEntry(root).addons, [join(root, 'prebuilds', 'linux-x64', 'pkg.glibc.node'), join(root, 'prebuilds', 'linux-x64', 'pkg.musl.node')]);
  await buildThreadsAddon(1, join(root, 'build', 'Release', 'pkg.node'));
  const entry = packageEntry(join(root, 'lib', 'main.js'));
  assert.deepEqual([entry.entry, entry.root, entry.addon], [join(root, 'lib', 'main.js'), root, join(root, 'build', 'Release', 'pkg.node')]);
  assert.throws(() => packageEntry(join(root, 'nothing-here')), typed('ERR_INVALID_OPTIONS', { option: 'module' }));
});
