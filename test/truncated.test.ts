// A half-written library (a linker caught mid-write: the ELF headers promise segments
// past the end of the file) kills any process that dlopens it, with SIGBUS, worker thread
// or not. isoswap must refuse it with ERR_NOT_A_LIBRARY and live on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)' };

/** Where glibc would fault: a page-aligned cut that keeps every header and loses the segments after the first. */
const HALF_WRITTEN_BYTES = 4096;

async function assertNotALibrary(promise: Promise<unknown>, file: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IsoswapError);
    assert.equal(err.code, 'ERR_NOT_A_LIBRARY', err.message);
    assert.ok(err.message.includes(file), err.message);
    return true;
  });
}

describe('a truncated library', () => {
  let good: Buffer;
  let halfWritten: string;
  let midFile: string;
  before(async () => {
    const dir = await makeTempDir();
    good = await readFile(await buildC(tickSource(1), join(dir, 'libgood.so')));
    assert.ok(good.length > 2 * HALF_WRITTEN_BYTES, 'the fixture library must span several pages');
    halfWritten = join(dir, 'libhalf.so');
    midFile = join(dir, 'libmid.so');
    await writeFile(halfWritten, good.subarray(0, HALF_WRITTEN_BYTES));
    await writeFile(midFile, good.subarray(0, Math.floor(good.length * 0.6)));
  });
  after(removeTempDirs);

  test('the control: dlopen without a check dies of SIGBUS', () => {
    const child = spawnSync(process.execPath, [join(FIXTURES, 'raw-dlopen.js'), halfWritten], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, 'SIGBUS', `the fixture must be deadly, or the tests below prove nothing (status ${child.status})`);
  });

  test('is refused at start and at reload, and this process lives on', async (t) => {
    for (const file of [halfWritten, midFile]) {
      await assertNotALibrary(createIsolatedHost({ library: file, functions: FUNCTIONS }), file);
    }
    const library = join(await makeTempDir(), 'libgame.so');
    await writeFile(library, good);
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    t.after(() => host.close());
    for (const bytes of [good.subarray(0, HALF_WRITTEN_BYTES), good.subarray(0, Math.floor(good.length * 0.6))]) {
      await writeFile(library, bytes);
      await assertNotALibrary(host.reload(), library);
      assert.equal(await host.call('do_tick', 1), 2, 'version 1 still serves');
    }
    assert.equal(host.current.id, 1);
  });

  test('a library being written slowly in place is refused at every stage, then served once whole', async (t) => {
    const dir = await makeTempDir();
    const library = join(dir, 'libgame.so');
    await writeFile(library, good);
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    t.after(() => host.close());
    const next = await readFile(await buildC(tickSource(2), join(dir, 'libnext.so')));

    // The way a linker writes its output: truncate, then append, with the file open.
    const out = await open(library, 'w');
    try {
      let written = 0;
      for (const upTo of [0, 64, HALF_WRITTEN_BYTES, Math.floor(next.length / 2), next.length - 1]) {
        await out.write(next.subarray(written, upTo), 0, upTo - written, written);
        written = upTo;
        await assertNotALibrary(host.reload(), library);
        assert.equal(await host.call('version'), 1, `version 1 serves while ${written} of ${next.length} bytes are written`);
      }
      await out.write(next.subarray(written), 0, next.length - written, written);
    } finally {
      await out.close();
    }
    const info = await host.reload();
    assert.deepEqual(host.history.map((v) => v.id), [1, info.id], 'no refused stage was ever served');
    assert.equal(await host.call('version'), 2);
  });

  test('in a child process: refused at start and at reload, and it exits 0 by itself', async () => {
    const library = join(await makeTempDir(), 'libgame.so');
    await writeFile(library, good);
    const child = spawnSync(process.execPath, [join(FIXTURES, 'truncated-child.js'), library, halfWritten], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, null, `killed by ${child.signal}: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { atStart: 'ERR_NOT_A_LIBRARY', atReload: 'ERR_NOT_A_LIBRARY', stillServes: 2 });
  });
});
