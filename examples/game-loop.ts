// `npm run demo`: the seed's game loop. A small host ticks the game logic, which lives in
// a native library; the library is rebuilt with another SPEED while the game runs and
// swapped in between two ticks. The game's globals live in the host's state block, and
// (C) in ISOSWAP_STATE statics that isoswap carries over, so the new version goes on
// counting where the old one stopped. Exits 0 by itself.
//
//   node dist/examples/game-loop.js [--rust] [--ticks N]
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, styleText } from 'node:util';
import { createIsolatedHost, IsoswapError, type VersionInfo } from 'isoswap';
import { buildExample, type ExampleLanguage } from './build-example.js';

const TICK_MS = 50;
const FIRST_SPEED = 1;
const NEXT_SPEED = 3;

/** Byte offsets of `struct game_state` (native/c/game.c), little-endian int32s. */
const FIELD = { ticks: 8, score: 12, x: 16, speed: 20, loads: 24, unloads: 28 } as const;
type GameState = Record<keyof typeof FIELD, number>;

type Style = Parameters<typeof styleText>[0];
const colors = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
const paint = (style: Style, text: string): string => (colors ? styleText(style, text) : text);

const label = (v: VersionInfo): string => `v${v.id} ${v.sha256.slice(0, 8)}`;

function readState(block: Uint8Array): GameState {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const state = {} as GameState;
  for (const [name, offset] of Object.entries(FIELD)) state[name as keyof GameState] = view.getInt32(offset, true);
  return state;
}

/** Lines of /proc/self/maps naming a file under `dir` (Linux), or null elsewhere. */
async function mappedUnder(dir: string): Promise<number | null> {
  const maps = await readFile('/proc/self/maps', 'utf8').catch(() => null);
  return maps === null ? null : maps.split('\n').filter((line) => line.includes(dir)).length;
}

function cargoMissing(): boolean {
  try { execFileSync('cargo', ['--version'], { stdio: 'ignore' }); return false; } catch { return true; }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rust: { type: 'boolean', default: false },
      ticks: { type: 'string', default: '12' }, // per phase: before the rebuild, after the swap
    },
  });
  const language: ExampleLanguage = values.rust ? 'rust' : 'c';
  const phaseTicks = Number(values.ticks);
  if (!Number.isInteger(phaseTicks) || phaseTicks < 1) throw new Error(`--ticks must be a positive integer, not ${values.ticks}`);
  if (language === 'rust' && cargoMissing()) {
    console.log(paint('yellow', 'skipped: the Rust example needs cargo on the PATH (it builds offline, no crates); try the C one: npm run demo'));
    return;
  }

  const dir = await mkdtemp(join(tmpdir(), 'isoswap-demo-'));
  try {
    await play(language, dir, phaseTicks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function play(language: ExampleLanguage, dir: string, phaseTicks: number): Promise<void> {
  const library = join(dir, language === 'c' ? 'libgame.so' : 'libisoswap_game.so');
  const build = async (speed: number): Promise<number> => {
    const started = performance.now();
    await buildExample({ language, speed, out: library, workDir: join(dir, 'rust') });
    return performance.now() - started;
  };

  console.log(paint('bold', `isoswap demo: the ${language === 'c' ? 'C' : 'Rust'} game library, ticked every ${TICK_MS} ms`));
  const firstBuild = await build(FIRST_SPEED);
  console.log(paint('dim', `built ${library} with SPEED=${FIRST_SPEED} in ${firstBuild.toFixed(0)} ms`));

  const host = await createIsolatedHost({
    library,
    // lifetime(): the C library's ISOSWAP_STATE tick counter (the Rust one keeps the block only)
    functions: { do_tick: 'int32_t do_tick(int32_t)', ...(language === 'c' ? { lifetime: 'int32_t lifetime(void)' } : {}) },
    state: { bytes: 4096 },
  });
  const copies = dirname(host.current.copy);
  let stop = false;
  process.once('SIGINT', () => { stop = true; });
  try {
    const block = host.state!;
    console.log(`${paint('green', 'loaded')} ${label(host.current)} in its own worker thread; game state in a ${block.byteLength}-byte block`);
    host.on('swap', ({ from, to, ms, pauseMs }) => {
      const pause = pauseMs === undefined ? '' : `, calls held ${pauseMs.toFixed(1)} ms`;
      console.log(paint('magenta', `swap ${label(from)} -> ${label(to)} in ${ms.toFixed(1)} ms${pause}`));
    });
    host.on('retired', (v) => console.log(paint('dim', `retired ${label(v)}: drained, unloaded, copy removed`)));
    host.on('error', (err) => console.log(paint('red', `error ${err.code}: ${err.message}`)));

    let rebuild: Promise<unknown> | null = null;
    let swapped: VersionInfo | null = null;
    let ticksAfterSwap = 0;
    let last = performance.now();
    while (!stop && ticksAfterSwap < phaseTicks) {
      await sleep(TICK_MS);
      const now = performance.now();
      const dt = Math.round(now - last);
      last = now;
      const score: number = await host.fns.do_tick(dt);
      const version = host.current;
      const s = readState(block);
      const line = `  ${label(version)}  tick ${String(s.ticks).padStart(3)}  speed ${s.speed}  dt ${String(dt).padStart(3)}`
        + `  x ${String(s.x).padStart(5)}  score ${String(score).padStart(4)}`;
      console.log(version.id === 1 ? line : paint('cyan', line));
      if (swapped !== null) ticksAfterSwap++;
      if (s.ticks === phaseTicks && rebuild === null) {
        console.log(paint('yellow', `rebuilding with SPEED=${NEXT_SPEED} while the game keeps ticking...`));
        rebuild = build(NEXT_SPEED).then(async (ms) => {
          console.log(paint('dim', `built in ${ms.toFixed(0)} ms; host.reload()`));
          swapped = await host.reload();
        });
        // A failed rebuild or swap ends the demo; the current version serves until then.
        rebuild.catch(() => { stop = true; });
      }
    }
    await rebuild;
    const s = readState(block);
    console.log(paint('bold', `state carried on: ${s.ticks} ticks over ${host.history.length} versions, `
      + `score ${s.score}; isoswap_load ran ${s.loads}x, isoswap_unload ${s.unloads}x`));
    if (language === 'c') console.log(paint('bold', `the ISOSWAP_STATE counter carried on too: ${await host.call('lifetime')} ticks`));
  } finally {
    await host.close();
  }
  const mapped = await mappedUnder(copies);
  console.log(paint('dim', `host closed${mapped === null ? '' : `; ${mapped} mappings of library copies left`}; the process exits by itself`));
}

main().catch((err: unknown) => {
  const message = err instanceof IsoswapError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  console.error(paint('red', `demo failed: ${message}`));
  process.exitCode = 1;
});
