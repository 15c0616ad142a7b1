// Builds the seed's example game library (native/c or native/rust) with a given SPEED
// into a given path, the way a linker would: to a side file first, then renamed into
// place, so that nothing ever sees a half-written library.
//
//   node dist/examples/build-example.js --speed 3 --out /tmp/libgame.so [--rust]
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createRequire } from 'node:module';

const run = promisify(execFile);

/** The native/ folder the isoswap package ships (the example C and Rust sources), found
 *  through the package itself, so this file runs from a copy in any project. */
export const NATIVE_DIR = join(dirname(createRequire(import.meta.url).resolve('isoswap/package.json')), 'native');

export type ExampleLanguage = 'c' | 'rust';

export interface BuildExampleOptions {
  language: ExampleLanguage;
  /** The compile-time constant that makes a rebuilt version visibly different. */
  speed: number;
  /** Where the library ends up. */
  out: string;
  /** Rust: a folder kept between builds so a rebuild is incremental (default: a new
   *  temp folder, removed afterwards). The sources are copied there, never built in
   *  native/rust, so a build leaves the checkout untouched. */
  workDir?: string;
}

/**
 * Builds the example library and renames it into place at `out`; resolves to `out`.
 *
 * @example
 * await buildExample({ language: 'c', speed: 3, out: '/tmp/demo/libgame.so' });
 */
export async function buildExample(options: BuildExampleOptions): Promise<string> {
  const { language, speed, out } = options;
  if (!Number.isInteger(speed)) throw new TypeError(`speed must be an integer, not ${speed}`);
  const target = resolve(out);
  await mkdir(dirname(target), { recursive: true });
  const side = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    if (language === 'c') await buildC(speed, side);
    else await buildRust(speed, side, options.workDir);
    await rename(side, target);
  } finally {
    await rm(side, { force: true });
  }
  return target;
}

async function buildC(speed: number, out: string): Promise<void> {
  await run('gcc', ['-shared', '-fPIC', '-O2', `-DSPEED=${speed}`, `-I${join(NATIVE_DIR, 'include')}`, '-o', out, join(NATIVE_DIR, 'c', 'game.c')]);
}

async function buildRust(speed: number, out: string, workDir?: string): Promise<void> {
  const dir = workDir ?? await mkdtemp(join(tmpdir(), 'isoswap-rust-example-'));
  try {
    const crate = join(dir, 'crate');
    const sources = join(NATIVE_DIR, 'rust');
    await cp(sources, crate, { recursive: true, filter: (path) => path !== join(sources, 'target') });
    // SPEED reaches the crate through option_env!; cargo tracks it and rebuilds when it changes.
    await run('cargo', ['build', '--offline', '--release', '--quiet'], {
      cwd: crate,
      env: { ...process.env, SPEED: String(speed), CARGO_TARGET_DIR: join(dir, 'target') },
    });
    // A copy, not a rename: the next incremental build rewrites the file in target/.
    await copyFile(join(dir, 'target', 'release', 'libisoswap_game.so'), out);
  } finally {
    if (workDir === undefined) await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rust: { type: 'boolean', default: false },
      speed: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  if (values.out === undefined) throw new Error('usage: build-example --out <path.so> [--speed N] [--rust]');
  const out = await buildExample({ language: values.rust ? 'rust' : 'c', speed: Number(values.speed), out: values.out });
  console.log(out);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
