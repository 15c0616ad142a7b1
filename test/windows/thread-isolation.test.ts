// Thread isolation under Windows Node (run by the Windows lane, npm run test:windows):
// the public contract on DLLs built with mingw.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createIsolatedHost } from '../../src/index.js';
import { readPe } from '../../src/platform/pe-image.js';
import { fixturePath } from './dll-fixtures.js';
import { hostFiles, install, rejectsWith, removeDirs, tempDir } from './windows-helpers.js';

const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)' } as const;
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

describe('thread isolation on Windows', () => {
  after(removeDirs);

  test('a DLL loads, serves, and swaps under 4 concurrent callers; close leaves no copy', async () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    assert.equal(await host.call('do_tick', 1), 2);
    assert.equal(host.callSync('do_tick', 1), 2);
    assert.match(host.current.copy, /\.isoswap-.*-v1-.*game\.dll$/);
    assert.notEqual(host.current.copy, library, 'the original is never loaded');

    let promised = 1; // the lowest version a call issued now may be answered by
    let stop = false;
    const stale: string[] = [];
    const failed: unknown[] = [];
    const answered = [0, 0, 0, 0];
    let afterLast = 0;
    const caller = async (i: number): Promise<void> => {
      while (!stop) {
        const atLeast = promised;
        try {
          const got = await host.call('version');
          if (got < atLeast) stale.push(`caller ${i}: version ${got} after reload to ${atLeast} resolved`);
          answered[i]!++;
          if (atLeast === 3) afterLast++;
        } catch (err) {
          failed.push(err);
        }
      }
    };
    const callers = [0, 1, 2, 3].map(caller);
    for (const next of [2, 3]) {
      install(`tick${next}.dll`, library);
      const info = await host.reload();
      assert.equal(info.id, next);
      promised = next;
    }
    // Bounded by calls, not time: every caller keeps going until 200 calls ran on version 3.
    while (afterLast < 200 && failed.length === 0) await new Promise((resolve) => setImmediate(resolve));
    stop = true;
    await Promise.all(callers);
    assert.deepEqual(failed, []);
    assert.deepEqual(stale, []);
    assert.ok(answered.every((n) => n > 0), `every caller was answered: ${answered.join(', ')}`);
    await host.close();
    assert.deepEqual(hostFiles(dir), [], 'no copy and no lock file is left beside the library');
  });

  test('while the host serves, the original DLL can be overwritten and removed', async () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    try {
      writeFileSync(library, readFileSync(fixturePath('tick2.dll'))); // in place: EBUSY if it were loaded
      assert.equal(await host.call('version'), 1);
      assert.equal((await host.reload()).id, 2);
      assert.equal(await host.call('version'), 2);
      rmSync(library); // EPERM if it were loaded
      assert.equal(await host.call('version'), 2);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('a DLL cut at any section boundary, or built for another machine, or an .exe, is refused; the version serving keeps serving', async () => {
    const whole = readFileSync(fixturePath('tick2.dll'));
    const image = readPe(whole);
    assert.ok(image !== null && image.sections.length > 3, 'the fixture has sections');
    const cuts = new Set<number>([64, image.headerBytes, ...image.sections.flatMap((s) => [s.rawOffset, s.rawOffset + s.rawSize - 1, s.rawOffset + s.rawSize])]);
    if (image.symbolsEnd > 0) cuts.add(image.symbolsEnd - 1);
    const lengths = [...cuts].filter((n) => n > 0 && n < whole.length).sort((a, b) => a - b);
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const truncated = join(dir, 'truncated.dll');
    writeFileSync(truncated, whole.subarray(0, lengths[lengths.length - 1]));
    await rejectsWith(createIsolatedHost({ library: truncated, functions: FUNCTIONS }), 'ERR_NOT_A_LIBRARY');
    rmSync(truncated);

    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    try {
      for (const length of lengths) {
        writeFileSync(library, whole.subarray(0, length));
        const err = await rejectsWith(host.reload(), 'ERR_NOT_A_LIBRARY');
        assert.ok(err.message.includes(library), err.message);
        assert.equal(await host.call('version'), 1, `version 1 serves after a cut at byte ${length}`);
      }
      const arm64 = Buffer.from(whole);
      arm64.writeUInt16LE(0xaa64, arm64.readUInt32LE(0x3c) + 4); // IMAGE_FILE_HEADER.Machine
      writeFileSync(library, arm64);
      const machine = await rejectsWith(host.reload(), 'ERR_NOT_A_LIBRARY');
      assert.match(machine.message, /built for arm64/);
      writeFileSync(library, readFileSync(fixturePath('notadll.exe')));
      assert.match((await rejectsWith(host.reload(), 'ERR_NOT_A_LIBRARY')).message, /not a DLL/);
      assert.equal(await host.call('version'), 1);
      assert.equal(host.current.id, 1);
      install('tick2.dll', library);
      await host.reload();
      assert.equal(await host.call('version'), 2);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), [], `${lengths.length} refused builds leave nothing behind`);
  });

  test('a DLL that imports a sibling DLL loads from its private copy', async () => {
    const dir = tempDir();
    install('helper.dll', join(dir, 'helper.dll'));
    const library = install('sibling.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    try {
      assert.equal(await host.call('do_tick', 2), 42);
      assert.equal(await host.call('version'), 7);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('the state block, the hooks, the isoswap_state section (long and stripped names), callSync, history and rollback', async () => {
    const dir = tempDir();
    const library = install('state1.dll', join(dir, 'game.dll'));
    const functions = { bump: 'int32_t bump(void)', version: 'int32_t version(void)', loads_seen: 'int32_t loads_seen(void)' } as const;
    const host = await createIsolatedHost({ library, functions, state: { bytes: 64 } });
    try {
      const words = new Int32Array(host.state!.buffer, host.state!.byteOffset, 2);
      assert.equal(words[0], 1, 'isoswap_load of version 1 wrote the state block');
      assert.equal(await host.call('bump'), 1);
      assert.equal(await host.call('bump'), 2);

      install('state2.dll', library);
      await host.reload();
      assert.equal(words[1], 1, 'isoswap_unload of version 1 ran');
      assert.equal(words[0], 3, 'isoswap_load of version 2 saw the same block');
      assert.equal(await host.call('version'), 2);
      assert.equal(await host.call('bump'), 3, 'the section carried the counter');
      assert.equal(await host.call('loads_seen'), 2, 'carried before the new version\'s isoswap_load');
      assert.equal(host.callSync('bump'), 4);

      install('state2stripped.dll', library);
      await host.reload();
      assert.equal(await host.call('bump'), 5, 'found by its cut name in a stripped DLL');

      assert.deepEqual(host.history.map((v) => v.id), [1, 2, 3]);
      const back = await host.rollback();
      assert.equal(back.id > 3, true, 'a rollback serves a new copy of a kept build');
      assert.equal(await host.call('version'), 2);
      assert.equal(await host.call('bump'), 6);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('watch: a build saved over the library is served', async () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({ library, functions: FUNCTIONS, watch: true });
    try {
      const swapped = once(host, 'swap', { signal: AbortSignal.timeout(60_000) });
      install('tick2.dll', library);
      await swapped;
      assert.equal(await host.call('version'), 2);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('the copies of a killed host are swept by the next one', async () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const child = spawn(process.execPath, [join(FIXTURES, 'serve-forever.js'), library, tempDir(), 'thread'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = await once(child.stdout.setEncoding('utf8'), 'data', { signal: AbortSignal.timeout(60_000) }) as [string];
    const message = JSON.parse(line) as { copy: string };
    const left = hostFiles(dir);
    assert.equal(left.length, 2, `a copy and a lock file: ${left.join(', ')}`);
    assert.ok(message.copy.endsWith(left.find((n) => !n.endsWith('.lock'))!));
    child.kill(); // TerminateProcess: no cleanup runs
    await once(child, 'exit');
    assert.equal(hostFiles(dir).length, 2, 'the killed host left its files');

    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    try {
      assert.deepEqual(hostFiles(dir).filter((n) => left.includes(n)), [], 'the next host removed them');
      assert.equal(await host.call('version'), 1);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('a program that closes its host exits by itself with status 0', () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const child = spawnSync(process.execPath, [join(FIXTURES, 'create-close.js'), library], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { result: 2 });
    assert.deepEqual(hostFiles(dir), []);
  });
});
