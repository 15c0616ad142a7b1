// The seed's example libraries (native/c, native/rust) and `npm run demo`, run as a new
// user would: the demo is a child process that must build, swap, keep the game state
// and exit 0 by itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildExample, type ExampleLanguage } from '../examples/build-example.js';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { cargoAvailable, makeTempDir, removeTempDirs } from './helpers/native.js';

const run = promisify(execFile);
const GAME_LOOP = fileURLToPath(new URL('../examples/game-loop.js', import.meta.url));
const TICK_LINE = /^\s+v(\d+) ([0-9a-f]{8})\s+tick\s+(\d+)\s+speed (\d+)/;
const NO_CARGO = 'cargo is not on the PATH: the Rust example cannot be built';

after(removeTempDirs);

interface Tick { version: number; hash: string; tick: number; speed: number }

async function runDemo(args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, [GAME_LOOP, '--ticks', '3', ...args], {
    timeout: 50_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return stdout.split('\n');
}

function ticksOf(lines: string[]): Tick[] {
  return lines.flatMap((line) => {
    const m = TICK_LINE.exec(line);
    return m === null ? [] : [{ version: Number(m[1]), hash: m[2]!, tick: Number(m[3]), speed: Number(m[4]) }];
  });
}

/** Exit 0 (run() rejects otherwise), a swap v1 -> v2, and one game counted across it. */
function assertGameSurvivedTheSwap(lines: string[]): void {
  const ticks = ticksOf(lines);
  assert.deepEqual(ticks.map((t) => t.tick), ticks.map((_, i) => i + 1), 'the tick counter goes on without a gap or reset');
  const v1 = ticks.filter((t) => t.version === 1);
  const v2 = ticks.filter((t) => t.version === 2);
  assert.ok(v1.length >= 3 && v2.length >= 3, `ticks on both versions: ${JSON.stringify(ticks)}`);
  assert.ok(v1.every((t) => t.speed === 1) && v2.every((t) => t.speed === 3), 'each tick ran the build its version label says');
  assert.notEqual(v1[0]!.hash, v2[0]!.hash, 'the rebuild is a different library');
  const swap = lines.findIndex((l) => /^swap v1 [0-9a-f]{8} -> v2 [0-9a-f]{8} in [\d.]+ ms, calls held [\d.]+ ms$/.test(l));
  assert.ok(swap > 0, `a swap line: ${lines.join('\n')}`);
  assert.ok(lines.some((l) => l.startsWith('retired v1 ')) && lines.some((l) => l.startsWith('retired v2 ')), 'both versions retired');
  assert.ok(lines.includes(`state carried on: ${ticks.length} ticks over 2 versions, score ${v1.length + 3 * v2.length}; isoswap_load ran 2x, isoswap_unload 1x`),
    'the summary read from host.state agrees');
  assert.ok(lines.some((l) => l.endsWith('; 0 mappings of library copies left; the process exits by itself')), 'no copy left mapped');
}

describe('the example game libraries', () => {
  for (const language of ['c', 'rust'] as ExampleLanguage[]) {
    const skip = language === 'rust' && !cargoAvailable() ? NO_CARGO : false;

    test(`${language}: ticks keep the game state in the host's block and refuse one too small`, { skip }, async (t) => {
      const dir = await makeTempDir();
      const library = await buildExample({ language, speed: 2, out: join(dir, 'libgame.so'), workDir: join(dir, 'work') });
      const functions = { do_tick: 'int32_t do_tick(int32_t)' };
      const host = await createIsolatedHost({ library, functions, state: { bytes: 64 } });
      t.after(() => host.close());
      assert.equal(await host.fns.do_tick(5), 2);
      assert.equal(await host.fns.do_tick(5), 4);
      const view = new DataView(host.state!.buffer);
      assert.deepEqual([view.getUint32(0, true), view.getInt32(8, true), view.getInt32(16, true), view.getInt32(20, true)],
        [0x454d4147, 2, 20, 2], 'magic, ticks, x, speed in the block');

      await assert.rejects(createIsolatedHost({ library, functions, state: { bytes: 16 } }),
        (err) => err instanceof IsoswapError && err.code === 'ERR_LOAD_HOOK' && err.message.includes(library));
    });

    test(`${language}: npm run demo rebuilds, swaps, keeps counting and exits 0`, { skip }, async () => {
      const lines = await runDemo(language === 'rust' ? ['--rust'] : []);
      assertGameSurvivedTheSwap(lines);
      if (language === 'rust') {
        assert.ok(lines.includes('[rust] speed 1: first tick on this thread (game tick 1)'), 'println! from the Rust cdylib');
        assert.ok(lines.some((l) => l.startsWith('[rust] speed 3: first tick on this thread')), 'println! from the rebuilt one');
      }
    });
  }
});
