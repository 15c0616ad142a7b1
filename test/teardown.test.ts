// After close(): no worker thread left, no copy (or lock file) left or mapped, and a
// program that only creates and closes a host exits by itself with status 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { ThreadWorkerHandle } from '../src/runtime/thread/thread-worker-handle.js';
import { buildC, copiesIn, mappedFiles, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };

/** The OS threads of this process: the main one, V8's and libuv's, and one per worker. */
const osThreads = async (): Promise<number> => (await readdir('/proc/self/task')).length;

test('close() ends every worker thread, removes every copy and unmaps it', async () => {
  const library = await buildC(tickSource(1));
  // A first host warms up what stays for good (libuv's thread pool, koffi in this thread).
  await (await createIsolatedHost({ library, functions: FUNCTIONS })).close();
  const before = await osThreads();

  const host = await createIsolatedHost({ library, functions: FUNCTIONS, threads: 3 });
  const dir = dirname(host.current.copy);
  const copies = join(dir, '.isoswap-');
  await buildC(tickSource(2), library);
  await host.reload(); // two versions: the retiring one and the serving one
  assert.equal(await host.call('do_tick', 1), 3);
  assert.ok(await osThreads() >= before + 3, 'the test must see the workers, or it proves nothing');
  assert.ok((await copiesIn(dir)).length >= 2);
  assert.ok(await mappedFiles(copies) >= 1);

  await host.close();
  assert.equal(await osThreads(), before, 'no worker thread is left');
  assert.deepEqual(await copiesIn(dir), [], 'the copies and the lock file are removed');
  assert.equal(await mappedFiles(copies), 0, 'no copy is mapped');
});

test('close() while a reload is under way still leaves nothing behind', async () => {
  const library = await buildC(tickSource(1));
  await (await createIsolatedHost({ library, functions: FUNCTIONS })).close();
  const before = await osThreads();
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, threads: 2 });
  const dir = dirname(host.current.copy);
  const copies = join(dir, '.isoswap-');
  await buildC(tickSource(2), library);
  const reloading = host.reload().catch((err: unknown) => err);
  await host.close();
  await reloading;
  assert.equal(await osThreads(), before);
  assert.deepEqual(await copiesIn(dir), []);
  assert.equal(await mappedFiles(copies), 0);
});

test('a request to a worker already ended by a forced close rejects (a retiring version asks for its code cache): it never throws', async () => {
  const worker = new ThreadWorkerHandle();
  await worker.request((remote) => remote.codeCache()); // answered: kill() ends it at once
  const reason = new IsoswapError('ERR_HOST_CLOSED', 'closed with force');
  const killed = worker.kill(reason); // the proxy is released now; the thread exits later
  let request: Promise<unknown> | undefined;
  assert.doesNotThrow(() => { request = worker.request((remote) => remote.codeCache()); }, 'comlink\'s released proxy is not touched');
  await assert.rejects(request!, (err: unknown) => err === reason);
  await killed;
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

test('a program run with --input-type=module (its eval code a module, and its workers\') creates, calls and closes a host', async () => {
  const library = await buildC(tickSource(41));
  const index = new URL('../src/index.js', import.meta.url).href;
  const program = `import { createIsolatedHost } from ${JSON.stringify(index)};
    const host = await createIsolatedHost({ library: ${JSON.stringify(library)}, functions: { do_tick: 'int32_t do_tick(int32_t)' } });
    console.log(JSON.stringify({ result: await host.call('do_tick', 1) }));
    await host.close();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout.trim()), { result: 42 });
});
