// 25 swaps of a Node-API addon under 4 busy callers (4 in process isolation, where each
// version is a Node process to start; 100 and 10 under `npm run stress`): every call is answered exactly once (the addon
// counts the calls it ran in the state block; the callers count the answers), and each
// retired version's copy is unmapped and removed (in process isolation: from every
// child's maps too), as is everything after close(). Every 8th call is a callSync: a
// blocking call that meets a pending hand-over finishes it itself, and is counted too.
// The calls take the shared-memory ring; among them, calls answered by a Promise (async
// work) and calls whose Buffer argument the addon writes into, each checked.
// Each version needs a fresh worker (Node registers an addon once per thread), so a swap
// costs at least a thread start.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, test } from 'node:test';
import { createAddonHost, type Isolation, type VersionInfo } from '../src/index.js';
import { childPids } from './helpers/act-fixture.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { copiesIn, mappedFiles, removeTempDirs } from './helpers/native.js';
import { stormSwaps } from './helpers/storm.js';

after(removeTempDirs);

const CALLERS = 4;

/** Whether `done` comes true within 10 s: Node unloads a worker's addons as the thread's
 *  environment is torn down, which can end a moment after 'retired' on a busy machine. */
async function settles(done: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (!await done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Files under `fragment` mapped by this process and, in process isolation, by each child. */
async function mappedAnywhere(fragment: string, isolation: Isolation): Promise<number> {
  let count = await mappedFiles(fragment);
  if (isolation === 'thread') return count;
  for (const pid of childPids()) count += await mappedFiles(fragment, pid).catch(() => 0); // a child may exit meanwhile
  return count;
}

for (const [isolation, SWAPS] of [['thread', stormSwaps(25, 100)], ['process', stormSwaps(4, 10)]] as Array<[Isolation, number]>) {
  test(`${isolation}: ${SWAPS} swaps under ${CALLERS} busy callers: every call answered once, every retired copy unmapped and removed`, async (t) => {
    const path = await buildAddon(1);
    const addon = await createAddonHost<TestAddon>({ addon: path, isolation, state: { bytes: 64 } });
    t.after(() => addon.close()); // a failed assertion must not leave workers keeping the file alive
    const copies = dirname(addon.current.copy);
    const words = new Uint32Array(addon.state!.buffer, addon.state!.byteOffset, 3);

    const leftovers: string[] = [];
    const retiredChecks: Array<Promise<void>> = [];
    addon.on('retired', (v: VersionInfo) => {
      retiredChecks.push((async () => {
        if (existsSync(v.copy)) leftovers.push(`v${v.id} copy on disk`);
        if (!await settles(async () => await mappedAnywhere(v.copy, isolation) === 0)) leftovers.push(`v${v.id} copy mapped`);
      })());
    });
    const errors: unknown[] = [];
    addon.on('error', (err) => errors.push(err));

    let stop = false;
    let answered = 0;
    let others = 0;
    const callers = Array.from({ length: CALLERS }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const x = c * 1_000_000 + i;
        if (i % 8 === 3 || i % 8 === 5) {
          const bytes = Buffer.alloc(3);
          const value = i % 8 === 3 ? await addon.exports.later(x, bytes, x & 0xff) : await addon.exports.fill(bytes, x & 0xff);
          assert.equal(value, i % 8 === 3 ? x : undefined, `later(${x}) / fill`);
          assert.deepEqual([...bytes], [x & 0xff, x & 0xff, x & 0xff], `the bytes written into ${x}'s Buffer`);
          others++;
          continue;
        }
        const result = i % 8 === 7 ? addon.callSync('tick', x) : await addon.exports.tick(x);
        assert.ok(result === x + 1 || result === x + 2, `tick(${x}) = ${result}`);
        answered++;
      }
    });

    for (let swap = 1; swap <= SWAPS; swap++) {
      await buildAddon(swap % 2 === 0 ? 1 : 2, path);
      const to = await addon.reload();
      assert.equal(await addon.exports.version(), swap % 2 === 0 ? 1 : 2, `swap ${swap} serves v${to.id}`);
    }
    stop = true;
    await Promise.all(callers);
    assert.ok(answered > SWAPS && others > SWAPS, `the callers were busy: ${answered} ticks, ${others} other calls`);
    assert.equal(words[0], answered, 'the addon ran as many ticks as the callers got answers');
    assert.equal(words[1], SWAPS + 1, 'isoswapLoad ran once per version');

    const lastCopy = addon.current.copy;
    assert.equal(await mappedAnywhere(lastCopy, isolation), 1, 'the serving copy is mapped once (the check can see a mapping)');
    // reload() resolves once the new version serves; the last old one retires behind it.
    const hostMaps = isolation === 'thread' ? 1 : 0;
    await settles(async () => await mappedFiles(copies) === hostMaps);
    assert.equal(await mappedFiles(copies), hostMaps, 'the host maps the serving copy only (process isolation: none)');
    await addon.close();
    await Promise.all(retiredChecks);
    assert.equal(retiredChecks.length, SWAPS + 1, 'every version retired');
    assert.deepEqual(leftovers, []);
    assert.equal(words[2], SWAPS + 1, 'isoswapUnload ran once per version');
    assert.deepEqual(existsSync(copies) ? await copiesIn(copies) : [], [], 'no copy (nor lock file) is left beside the addon');
    assert.equal(await mappedAnywhere(copies, isolation), 0, 'no copy is mapped anywhere');
    if (isolation === 'process') assert.deepEqual(childPids(), [], 'no child process is left');
    assert.deepEqual(errors, []);
    assert.deepEqual(addon.history.map((v) => v.status).filter((s) => s !== 'retired'), []);
  });
}
