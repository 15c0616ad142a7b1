// Builds native fixtures for the tests into private temp dirs, with gcc and cargo.
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFileSync } from 'node:child_process';

const run = promisify(execFile);
const dirs: string[] = [];

/** A fresh temp dir, removed by {@link removeTempDirs}. */
export async function makeTempDir(prefix = 'isoswap-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Removes every dir {@link makeTempDir} made. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * Compiles C source into a shared library at `out` (default: a new temp dir/libfixture.so).
 * Builds to a side file and renames it into place, as a linker would.
 */
export async function buildC(source: string, out?: string, flags: string[] = []): Promise<string> {
  const target = out ?? join(await makeTempDir(), 'libfixture.so');
  const src = `${target}.c`;
  await writeFile(src, source);
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await run('gcc', ['-shared', '-fPIC', '-O2', '-o', tmp, src, ...flags]);
  await run('mv', ['-f', tmp, target]);
  return target;
}

/** C source of a library exporting `int32_t do_tick(int32_t x)` returning x + k, and `version()` = k. */
export function tickSource(k: number, extra = ''): string {
  return `#include <stdint.h>
int32_t do_tick(int32_t x) { return x + ${k}; }
int32_t version(void) { return ${k}; }
${extra}
`;
}

let cargo: boolean | undefined;
/** True when cargo is on the PATH. */
export function cargoAvailable(): boolean {
  if (cargo === undefined) {
    try { execFileSync('cargo', ['--version'], { stdio: 'ignore' }); cargo = true; } catch { cargo = false; }
  }
  return cargo;
}

/** Builds a dependency-free Rust cdylib (or, with `crateType: 'dylib'` and
 *  `rustflags: '-C prefer-dynamic'`, a dylib that needs the toolchain's libstd) from
 *  `lib.rs` source (cargo --offline, its target dir in the same temp dir). */
export async function buildRust(libRs: string, name = 'fixture', { crateType = 'cdylib', rustflags }: { crateType?: 'cdylib' | 'dylib'; rustflags?: string } = {}): Promise<string> {
  const dir = await makeTempDir('isoswap-rust-');
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["${crateType}"]\n\n[profile.release]\nopt-level = 1\n`);
  await writeFile(join(dir, 'src', 'lib.rs'), libRs);
  const env = { ...process.env, CARGO_TARGET_DIR: join(dir, 'target'), ...(rustflags === undefined ? {} : { RUSTFLAGS: rustflags }) };
  await run('cargo', ['build', '--offline', '--release', '--quiet'], { cwd: dir, env });
  return join(dir, 'target', 'release', `lib${name}.so`);
}

/** How many distinct files whose path contains `fragment` this process has mapped. */
export async function mappedFiles(fragment: string, pid: number | 'self' = 'self'): Promise<number> {
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
  const files = new Set<string>();
  for (const line of maps.split('\n')) {
    const path = line.split(/\s+/).slice(5).join(' ');
    if (path.includes(fragment)) files.add(path);
  }
  return files.size;
}

/**
 * C source of version `k` with `hold(started, go)`: creates the file `started`, waits
 * (bounded, 20 s) until `go` exists, returns k (or -k if it gave up). Holds a call in
 * flight for exactly as long as a test wants, with no timing.
 */
export function holdingSource(k: number, extra = ''): string {
  return `#include <stdint.h>
#include <fcntl.h>
#include <unistd.h>
int32_t version(void) { return ${k}; }
int32_t hold(const char *started, const char *go) {
  int fd = open(started, O_CREAT | O_WRONLY, 0600);
  if (fd >= 0) close(fd);
  for (int i = 0; i < 20000 && access(go, F_OK) != 0; i++) usleep(1000);
  return access(go, F_OK) == 0 ? ${k} : -${k};
}
${extra}
`;
}

/** Resolves once `path` exists (a fixture's "started" file); throws after ~10 s. */
export async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await access(path).then(() => true, () => false)) return;
    await delay(5);
  }
  throw new Error(`timed out waiting for ${path}`);
}

/** The files isoswap wrote in `dir` (private copies and lock files: `.isoswap-*`). */
export async function copiesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('.isoswap-')).sort();
}
