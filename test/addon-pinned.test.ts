// Honest unload for addons: builds thread isolation can never unmap (-z nodelete) are
// found before they are served (VersionInfo.pinned, a warning, onPinned), threads an addon
// leaves running are caught (no SIGSEGV), a missing $ORIGIN dependency is named, and a
// package's own JavaScript entry is served and reloaded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { constants } from 'node:os';
import { createAddonHost, createIsolatedHost, IsoswapError } from '../src/index.js';
import { buildThreadsAddon, buildPackage } from './helpers/addon-threads.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';
import { typed } from './helpers/typed-error.js';

after(removeTempDirs);

type ThreadsAddon = { version(): number; startThread(rename: boolean): number };
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const UNIQUE_CC = 'inline int &counter() { static int c; return c; }\nextern "C" int bump() { return ++counter(); }\n';

const run = promisify(execFile);

async function replace(target: string, build: string): Promise<void> {
  await copyFile(build, `${target}.swap`);
  await rename(`${target}.swap`, target);
}

test('a -z nodelete addon is reported before it is served: pinned, a warning from the second version on', async () => {
  const addon = await buildThreadsAddon(1, undefined, { nodelete: true });
  const host = await createAddonHost<ThreadsAddon>({ addon });
  const warnings: IsoswapError[] = [];
  host.on('warning', (err) => warnings.push(err));
  try {
    assert.equal(host.current.pinned, true);
    assert.equal(host.current.isolation, 'thread');
    assert.equal(warnings.length, 0, 'the first version is no leak yet');
    await replace(addon, await buildThreadsAddon(2, undefined, { nodelete: true }));
    const v2 = await host.reload();
    assert.equal(v2.pinned, true);
    assert.equal(await host.exports.version(), 2);
    assert.equal(warnings.length, 1);
    assert.ok(typed('ERR_PINNED_LIBRARY', { nodelete: true, version: 2, outcome: 'warn' })(warnings[0]));
    await replace(addon, await buildThreadsAddon(3));
    const v3 = await host.reload();
    assert.equal(v3.pinned, false, 'a build without the flag is not pinned');
    assert.equal(warnings.length, 1);
  } finally {
    await host.close();
  }
});

test("onPinned: 'refuse' refuses a pinned build with ERR_PINNED_LIBRARY; the current version serves on", async () => {
  const addon = await buildThreadsAddon(1);
  const host = await createAddonHost<ThreadsAddon>({ addon, onPinned: 'refuse' });
  try {
    await replace(addon, await buildThreadsAddon(2, undefined, { nodelete: true }));
    await assert.rejects(host.reload(), typed('ERR_PINNED_LIBRARY', { outcome: 'refused', nodelete: true }));
    assert.equal(host.current.id, 1);
    assert.equal(await host.exports.version(), 1);
  } finally {
    await host.close();
  }
  const pinned = await buildThreadsAddon(1, undefined, { nodelete: true });
  await assert.rejects(createAddonHost({ addon: pinned, onPinned: 'refuse' }), typed('ERR_PINNED_LIBRARY'));
  // process isolation unmaps by ending the child: nothing to refuse
  const inProcess = await createAddonHost<ThreadsAddon>({ addon: pinned, onPinned: 'refuse', isolation: 'process' });
  assert.equal(inProcess.current.pinned, true);
  assert.equal(inProcess.current.isolation, 'process');
  await inProcess.close();
});

test("onPinned: 'process' serves a pinned build from a child process, the others in threads, with one state block", async () => {
  const addon = await buildThreadsAddon(1);
  const host = await createAddonHost<ThreadsAddon>({ addon, onPinned: 'process', state: { bytes: 64 } });
  const warnings: IsoswapError[] = [];
  host.on('warning', (err) => warnings.push(err));
  try {
    assert.equal(host.current.isolation, 'thread');
    host.state![0] = 42;
    await replace(addon, await buildThreadsAddon(2, undefined, { nodelete: true }));
    const v2 = await host.reload();
    assert.deepEqual([v2.pinned, v2.isolation], [true, 'process']);
    assert.equal(await host.exports.version(), 2);
    assert.equal(host.callSync('version'), 2);
    await replace(addon, await buildThreadsAddon(3));
    const v3 = await host.reload();
    assert.deepEqual([v3.pinned, v3.isolation], [false, 'thread']);
    assert.equal(await host.exports.version(), 3);
    assert.equal(host.state![0], 42);
    assert.deepEqual(warnings, [], 'nothing is left mapped: no warning');
  } finally {
    await host.close();
  }
});

for (const renamed of [false, true]) {
  test(`an addon that leaves a thread running${renamed ? ' (renamed, as tokio does)' : ''} does not crash the host: ERR_GUEST_THREADS`, async () => {
    const addon = await buildThreadsAddon(1);
    const rebuild = await buildThreadsAddon(2);
    // Bounded: a program that does not end is killed (SIGTERM, reported as the signal).
    const { stdout, stderr, code, signal } = await run(process.execPath, [join(FIXTURES, 'addon-threads-child.js'), addon, rebuild, renamed ? '1' : '0'], { timeout: 60_000 })
      .then(({ stdout, stderr }) => ({ stdout, stderr, code: 0, signal: null }),
        (err: { stdout: string; stderr: string; code: number | null; signal: NodeJS.Signals | null }) => err);
    assert.equal(signal, null, `killed by ${signal}; stderr: ${stderr}`);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout.trim()) as { started: number; after: number; errors: Array<{ code: string; tids: number[] }> };
    assert.equal(result.started, 0);
    assert.equal(result.after, 2);
    assert.deepEqual(result.errors.map((e) => e.code), ['ERR_GUEST_THREADS']);
    assert.equal(result.errors[0]!.tids.length, 1);
  });
}

test('an addon whose $ORIGIN dependency is missing: ERR_DEPENDENCY_MISSING naming it, not ERR_NOT_A_LIBRARY', async () => {
  const beside = await buildThreadsAddon(1, undefined, { helper: 'beside' });
  const host = await createAddonHost<ThreadsAddon>({ addon: beside });
  assert.equal(await host.exports.version(), 101, 'the helper (100) is found beside it');
  await host.close();
  const alone = await buildThreadsAddon(1, undefined, { helper: 'missing' });
  await assert.rejects(createAddonHost({ addon: alone }), typed('ERR_DEPENDENCY_MISSING', { dependency: 'libhelper.so' }));
  await assert.rejects(createAddonHost({ addon: alone, isolation: 'process' }), typed('ERR_DEPENDENCY_MISSING', { dependency: 'libhelper.so' }));
});

test("a package's own entry module is served (its class over the .node) and reloaded when its .node changes", async () => {
  const pkg = await buildPackage(1);
  const host = await createAddonHost<{ version(): number; describe(): string }>({ module: pkg.root, watch: true });
  try {
    assert.equal(host.current.library, pkg.addon, 'the .node the package loads is the build watched');
    assert.equal(await host.exports.version(), 1);
    assert.equal(await host.exports.describe(), 'build 1 after 1 call(s)', "the package's JavaScript runs in the version");
    const swapped = once(host, 'swap');
    await replace(pkg.addon, await buildThreadsAddon(2));
    await swapped;
    assert.equal(await host.exports.describe(), 'build 2 after 0 call(s)', 'a fresh require: the new version starts from a new instance');
    assert.equal(await host.exports.version(), 2);
    await replace(pkg.addon, await buildThreadsAddon(3));
    await host.reload();
    assert.equal(await host.exports.version(), 3);
  } finally {
    await host.close();
  }
  await rm(pkg.addon);
  await assert.rejects(createAddonHost({ module: pkg.root }), typed('ERR_INVALID_OPTIONS', { option: 'module' }));
});

test('createAddonHost refuses the library host options that mean nothing for an addon, and unknown ones, naming them', async () => {
  const addon = await buildThreadsAddon(1);
  for (const [option, value] of [['threads', 4], ['library', addon], ['functions', {}], ['libraryPath', ['/tmp']], ['header', 'x.h'], ['fleet', { transport: 'cluster' }]] as const) {
    await assert.rejects(createAddonHost({ addon, [option]: value }), typed('ERR_INVALID_OPTIONS', { option }), option);
  }
  await assert.rejects(createAddonHost({ addon, wacth: true } as never), typed('ERR_INVALID_OPTIONS', { option: 'wacth', suggestion: 'watch' }));
  await assert.rejects(createAddonHost({ addon, onPinned: 'ignore' } as never), typed('ERR_INVALID_OPTIONS', { option: 'onPinned' }));
  await assert.rejects(createAddonHost({ addon, dlopenFlags: -1 }), typed('ERR_INVALID_OPTIONS', { option: 'dlopenFlags' }));
  await assert.rejects(createAddonHost({ addon, module: '.' }), typed('ERR_INVALID_OPTIONS', { option: 'module' }));
  await assert.rejects(createAddonHost({}), typed('ERR_INVALID_OPTIONS', { option: 'addon' }));
  // the library host's own checks, through the same code
  for (const [option, extra] of [['callTimeoutMs', { callTimeoutMs: 2 ** 31 }], ['state.bytes', { state: { bytes: 2 ** 32 } }], ['tempDir', { tempDir: 42 }],
    ['watch', { watch: 'yes' }], ['keepBuilds', { keepBuilds: 0.5 }], ['isolation', { isolation: 'fork' }], ['hookTimeoutMs', { hookTimeoutMs: -1 }]] as const) {
    await assert.rejects(createAddonHost({ addon, ...extra } as never), typed('ERR_INVALID_OPTIONS', { option }), option);
  }
});

test('a library (createIsolatedHost) marked NODELETE, or with STB_GNU_UNIQUE symbols, is pinned too: warned, refused', async () => {
  const dir = await makeTempDir();
  const library = await buildC(tickSource(1), join(dir, 'libtick.so'));
  const host = await createIsolatedHost({ library, functions: { version: 'int32_t version(void)' } });
  const warnings: IsoswapError[] = [];
  host.on('warning', (err) => warnings.push(err));
  try {
    assert.equal(host.current.pinned, false);
    await buildC(tickSource(2), library, ['-Wl,-z,nodelete']);
    assert.equal((await host.reload()).pinned, true);
    assert.ok(typed('ERR_PINNED_LIBRARY', { nodelete: true, version: 2 })(warnings[0]));
  } finally {
    await host.close();
  }
  // C++ inline statics (gcc's -fgnu-unique): unique symbols, no flag
  const unique = join(dir, 'libunique.so');
  await writeFile(`${unique}.cc`, UNIQUE_CC);
  await run('g++', ['-shared', '-fPIC', '-O2', '-o', unique, `${unique}.cc`]);
  const refusing = createIsolatedHost({ library: unique, functions: { bump: 'int bump(void)' }, onPinned: 'refuse' });
  await assert.rejects(refusing, typed('ERR_PINNED_LIBRARY', { nodelete: false, unique: ['_ZZ7countervE1c'] }));
  const inChild = await createIsolatedHost({ library: unique, functions: { bump: 'int bump(void)' }, onPinned: 'process' });
  assert.deepEqual([inChild.current.pinned, inChild.current.isolation], [true, 'process']);
  assert.equal(await inChild.call('bump'), 1);
  await inChild.close();
  await assert.rejects(createIsolatedHost({ library, functions: {}, onPinned: 'never' as 'warn' }), typed('ERR_INVALID_OPTIONS', { option: 'onPinned' }));
});

test('dlopenFlags reach process.dlopen: an addon with an undefined symbol loads lazily (the default), not with RTLD_NOW', async () => {
  const addon = await buildThreadsAddon(1, undefined, { lazyMissing: true });
  const lazy = await createAddonHost<ThreadsAddon>({ addon });
  assert.equal(await lazy.exports.version(), 1);
  await lazy.close();
  for (const isolation of ['thread', 'process'] as const) {
    await assert.rejects(createAddonHost({ addon, isolation, dlopenFlags: constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL }),
      (err: unknown) => typed('ERR_NOT_A_LIBRARY')(err) && (err as Error).message.includes('isoswap_nowhere_defined'), isolation);
  }
});
