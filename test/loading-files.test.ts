// What `library` may name: only a regular file is read (a device, FIFO, socket or
// directory is refused at once), nothing over the size cap; a name of 250 characters
// serves; a glob with one match is served and watched, with several or none it is a clear
// error listing the candidates; a near-miss name gets "did you mean".
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, rename, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type Isolation, type IsoswapErrorCode } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };

async function rejectsWith(promise: Promise<unknown>, code: IsoswapErrorCode): Promise<IsoswapError> {
  const err = await promise.then(() => assert.fail(`expected ${code}, it resolved`), (e: unknown) => e);
  assert.ok(err instanceof IsoswapError, String(err));
  assert.equal(err.code, code, err.message);
  return err;
}

describe('only regular files are read', () => {
  test('/dev/zero, a FIFO, a directory and a socket are refused within a second, the process alive', async (t) => {
    const dir = await makeTempDir();
    const good = await buildC(tickSource(1));
    const fifo = join(dir, 'libfifo.so');
    execFileSync('mkfifo', [fifo]);
    const directory = join(dir, 'libdir.so');
    await mkdir(directory);
    const socket = join(dir, 'libsock.so');
    const server = createServer().listen(socket);
    t.after(() => server.close());
    await once(server, 'listening');
    // In a child: a read that blocks would block its event loop for good, and only a
    // bound from outside (the spawn timeout) ends it.
    const child = spawnSync(process.execPath, [join(FIXTURES, 'refuse-special.js'), good, '/dev/zero', fifo, directory, socket],
      { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.signal, null, `the process was killed (${child.signal}): it blocked or ran out of memory; ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    const { results, rssMiB } = JSON.parse(child.stdout) as { results: Array<{ library: string; code: string; ms: number }>; rssMiB: number };
    assert.deepEqual(results.map((r) => r.code), ['ERR_NOT_A_LIBRARY', 'ERR_NOT_A_LIBRARY', 'ERR_NOT_A_LIBRARY', 'ERR_NOT_A_LIBRARY']);
    for (const r of results) assert.ok(r.ms < 1000, `${r.library} was refused after ${r.ms} ms`);
    assert.ok(rssMiB < 1024, `nothing was read from /dev/zero (rss ${rssMiB} MiB)`);
  });

  test('a file over the size cap is refused before it is read (ERR_LIBRARY_TOO_LARGE)', async () => {
    const library = join(await makeTempDir(), 'libhuge.so');
    await writeFile(library, '');
    await truncate(library, 2 ** 31); // sparse: no disk used
    const err = await rejectsWith(createIsolatedHost({ library, functions: FUNCTIONS }), 'ERR_LIBRARY_TOO_LARGE');
    assert.equal(err.details.bytes, 2 ** 31);
    assert.ok(err.message.includes(library));
  });

  test('a file that cannot be read is ERR_LIBRARY_UNREADABLE with its errno', async () => {
    const library = join(await makeTempDir(), 'libloop.so');
    execFileSync('ln', ['-s', library, library]); // ELOOP: a symlink to itself
    const err = await rejectsWith(createIsolatedHost({ library, functions: FUNCTIONS }), 'ERR_LIBRARY_UNREADABLE');
    assert.equal(err.details.errno, 'ELOOP');
  });
});

describe('names', () => {
  for (const isolation of ['thread', 'process'] as Isolation[]) {
    test(`a library named with 250 characters serves and swaps (isolation: ${isolation})`, async (t) => {
      const name = `lib${'x'.repeat(244)}.so`;
      assert.equal(name.length, 250);
      const dir = await makeTempDir();
      const library = join(dir, name);
      // gcc's own temp file next to it would not fit NAME_MAX: built short, renamed
      const build = async (k: number): Promise<void> => rename(await buildC(tickSource(k), join(dir, 'libshort.so')), library);
      await build(1);
      const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
      t.after(() => host.close());
      assert.equal(await host.call('do_tick', 1), 2);
      assert.ok(Buffer.byteLength(basename(host.current.copy)) <= 255, 'the copy name fits NAME_MAX');
      assert.ok(basename(host.current.copy).endsWith('.so'), 'the copy keeps the end of the name');
      await build(2);
      await host.reload();
      assert.equal(await host.call('do_tick', 1), 3);
    });
  }

  test('not found: the nearest names in that directory ("did you mean libhot_swap.so?")', async () => {
    const dir = await makeTempDir();
    await buildC(tickSource(1), join(dir, 'libhot_swap.so'));
    const err = await rejectsWith(createIsolatedHost({ library: join(dir, 'libhot-swap.so'), functions: FUNCTIONS }), 'ERR_LIBRARY_NOT_FOUND');
    assert.match(err.message, /did you mean libhot_swap\.so/);
    const far = await rejectsWith(createIsolatedHost({ library: join(dir, 'something-else-entirely'), functions: FUNCTIONS }), 'ERR_LIBRARY_NOT_FOUND');
    assert.doesNotMatch(far.message, /did you mean/, 'a name that is not near is not suggested');
  });
});

describe('a glob as `library`', () => {
  test('one match is served and watched', async (t) => {
    const dir = await makeTempDir();
    const library = await buildC(tickSource(1), join(dir, 'libhot_swap.so'));
    const host = await createIsolatedHost({ library: join(dir, '*.so'), functions: FUNCTIONS, watch: true });
    t.after(() => host.close());
    assert.equal(host.current.library, library, 'the glob resolved to the one file');
    assert.equal(await host.call('do_tick', 1), 2);
    const swapped = once(host, 'swap');
    await buildC(tickSource(2), library);
    await swapped;
    assert.equal(await host.call('do_tick', 1), 3, 'a new build of the matched file is swapped in');
    assert.ok((await readdir(dir)).some((n) => n.startsWith('.isoswap-')), 'copies are beside the library now');
    const second = await createIsolatedHost({ library: join(dir, '*.so'), functions: FUNCTIONS });
    assert.equal(second.current.library, library, 'the hidden copies are no match of the glob');
    await second.close();
  });

  test('a path that exists is served as it is, glob characters or not', async (t) => {
    const dir = join(await makeTempDir(), 'game (copy) [1]');
    await mkdir(dir);
    const library = await buildC(tickSource(1), join(dir, 'libgame.so'));
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    t.after(() => host.close());
    assert.equal(host.current.library, library);
    assert.equal(await host.call('do_tick', 1), 2);
  });

  test('several matches: ERR_AMBIGUOUS_LIBRARY lists them', async () => {
    const dir = await makeTempDir();
    await buildC(tickSource(1), join(dir, 'liba.so'));
    await buildC(tickSource(2), join(dir, 'libb.so'));
    const err = await rejectsWith(createIsolatedHost({ library: join(dir, 'lib*.so'), functions: FUNCTIONS }), 'ERR_AMBIGUOUS_LIBRARY');
    assert.deepEqual(err.details.candidates, [join(dir, 'liba.so'), join(dir, 'libb.so')]);
    assert.ok(err.message.includes(join(dir, 'liba.so')) && err.message.includes(join(dir, 'libb.so')));
  });

  test('no match: ERR_LIBRARY_NOT_FOUND lists what is there', async () => {
    const dir = await makeTempDir();
    await buildC(tickSource(1), join(dir, 'libhot_swap.so'));
    const err = await rejectsWith(createIsolatedHost({ library: join(dir, '*.dylib'), functions: FUNCTIONS }), 'ERR_LIBRARY_NOT_FOUND');
    assert.ok(err.message.includes('libhot_swap.so'), err.message);
    assert.ok(err.message.includes('*.dylib'));
  });
});
