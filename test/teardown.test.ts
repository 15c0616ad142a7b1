// After close(): no worker thread left, the private temp dir gone, no copy mapped, and a
// program that only creates and closes a host exits by itself with status 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { buildC, makeTempDir, mappedFiles, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };

/** The OS threads of this process: the main one, V8's and libuv's, and one per worker. */
const osThreads = async (): Promise<number> => (await readdir('/proc/self/task')).length;

test('close() ends every worker thread, removes the temp dir and unmaps every copy', async () => {
  const library = await buildC(tickSource(1));
  // A first host warms up what stays for good (libuv's thread pool, koffi in this thread).
  await (await createIsolatedHost({ library, functions: FUNCTIONS })).close();
  const before = await osThreads();

  const host = await createIsolatedHost({ library, functions: FUNCTIONS, threads: 3 });
  const copies = dirname(host.current.copy);
  await buildC(tickSource(2), library);
  await host.reload(); // two versions: the retiring one and the serving one
  assert.equal(await host.call('do_tick', 1), 3);
  assert.ok(await osThreads() >= before + 3, 'the test must see the workers, or it proves nothing');
  assert.ok(existsSync(copies));
  assert.ok(await mappedFiles(copies) >= 1);

  await host.close();
  assert.equal(await osThreads(), before, 'no worker thread is left');
  assert.equal(existsSync(copies), false, 'the private temp dir is removed');
  assert.equal(await mappedFiles(copies), 0, 'no copy is mapped');
});

test('close() while a reload is under way still leaves nothing behind', async () => {
  const library = await buildC(tickSource(1));
  await (await createIsolatedHost({ library, functions: FUNCTIONS })).close();
  const before = await osThreads();
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, threads: 2 });
  const copies = dirname(host.current.copy);
  await buildC(tickSource(2), library);
  const reloading = host.reload().catch((err: unknown) => err);
  await host.close();
  await reloading;
  assert.equal(await osThreads(), before);
  assert.equal(existsSync(copies), false);
  assert.equal(await mappedFiles(copies), 0);
});

test('a program that creates and closes a host exits by itself with status 0', async () => {
  const library = await buildC(tickSource(41));
  for (const threads of ['1', '3']) {
    const child = spawnSync(process.execPath, [join(FIXTURES, 'create-close.js'), library, threads], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, null, `killed by ${child.signal}: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { result: 42 });
  }
});

test('copies left by a killed host are removed by the next host; a live process\'s are kept', async () => {
  const parent = await makeTempDir();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
  const orphan = join(parent, `isoswap-${dead}-AbC123`);
  const live = join(parent, `isoswap-${process.pid}-XyZ789`);
  for (const dir of [orphan, live]) {
    await mkdir(dir);
    await writeFile(join(dir, 'v1-0123456789ab-libgame.so'), 'copy');
  }
  const host = await createIsolatedHost({ library: await buildC(tickSource(1)), functions: { do_tick: 'int32_t do_tick(int32_t)' }, tempDir: parent });
  try {
    assert.equal(existsSync(orphan), false, 'the dead process\'s copies are gone');
    assert.equal(existsSync(live), true, 'a live process\'s copies stay');
    assert.ok(basename(dirname(host.current.copy)).startsWith(`isoswap-${process.pid}-`));
  } finally {
    await host.close();
  }
});
