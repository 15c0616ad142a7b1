// The core host through its public API: call, fns, current, reload, swap/retired events,
// history, close, and `threads: N` serving N calls at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, type SwapEvent, type VersionInfo } from '../src/index.js';
import { buildC, copiesIn, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)' };

const sha256Of = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

test('current describes a private 0700 copy of the library, hashed', async (t) => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => host.close());

  const info = host.current;
  assert.equal(info.id, 1);
  assert.equal(info.library, library);
  assert.notEqual(info.copy, library);
  assert.equal(dirname(info.copy), dirname(library), 'the copy lives beside the library ($ORIGIN)');
  assert.match(basename(info.copy), /^\.isoswap-\d+-[0-9a-f]{6}-v1-[0-9a-f]{12}-libfixture\.so$/);
  assert.ok(existsSync(info.copy), 'the copy exists while its version serves');
  assert.equal((await stat(info.copy)).mode & 0o777, 0o600);
  assert.equal(info.sha256, await sha256Of(library));
  assert.equal(await sha256Of(info.copy), info.sha256);
  assert.ok(info.loadedAt instanceof Date);
  assert.ok(info.loadedAt.getTime() <= Date.now());
});

test('call and fns.<name> return the native result', async (t) => {
  const library = await buildC(tickSource(10));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => host.close());

  assert.equal(await host.call('do_tick', 5), 15);
  assert.equal(await host.fns.do_tick(7), 17);
  assert.equal(await host.fns.version(), 10);
  assert.deepEqual(Object.keys(host.fns).sort(), ['do_tick', 'version']);
});

test('reload serves the new build, emits swap then retired, and keeps the history', async (t) => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  t.after(() => host.close());
  const first = host.current;
  const swaps: SwapEvent[] = [];
  host.on('swap', (e) => swaps.push(e));
  const retired = once(host, 'retired') as Promise<[VersionInfo]>;

  await buildC(tickSource(2), library);
  const info = await host.reload();

  assert.equal(info.id, 2);
  assert.equal(info.sha256, await sha256Of(library));
  assert.notEqual(info.sha256, first.sha256);
  assert.notEqual(info.copy, first.copy);
  assert.deepEqual(host.current, info);
  assert.equal(await host.call('do_tick', 1), 3, 'a call after reload() resolves runs on the new build');

  assert.equal(swaps.length, 1);
  const [swap] = swaps;
  assert.equal(swap!.from.id, 1);
  assert.equal(swap!.from.copy, first.copy);
  assert.equal(swap!.to.id, 2);
  assert.equal(swap!.to.sha256, info.sha256);
  assert.equal(typeof swap!.ms, 'number');
  assert.ok(swap!.ms >= 0);

  const [gone] = await retired;
  assert.equal(gone.id, 1);
  assert.equal(existsSync(first.copy), false, 'the retired version\'s copy is removed before `retired`');
  assert.ok(existsSync(info.copy), 'the serving copy stays');

  assert.deepEqual(host.history.map((v) => v.id), [1, 2]);
  assert.deepEqual(host.history.map((v) => v.sha256), [first.sha256, info.sha256]);
  assert.equal(host.history[1]!.status, 'serving');
});

test('close() is idempotent and removes every copy', async () => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  const dir = dirname(host.current.copy);
  assert.equal((await copiesIn(dir)).length, 2, 'a copy and the lock file');
  const closes = [host.close(), host.close()];
  await Promise.all(closes);
  await host.close();
  assert.equal(host.closed, true);
  assert.deepEqual(await copiesIn(dir), []);
});

// Every worker of one version dlopens the same copy, so they share this counter. A call
// waits (bounded) until `want` calls have arrived and returns how many it saw: with
// `threads: 2` two concurrent calls both see 2; with one thread the first gives up alone.
const RENDEZVOUS = `#include <stdint.h>
#include <time.h>
#include <unistd.h>
static int32_t arrived = 0;
int32_t rendezvous(int32_t want, int32_t timeout_ms) {
  __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int32_t seen = __atomic_load_n(&arrived, __ATOMIC_SEQ_CST);
    if (seen >= want) return seen;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= timeout_ms) return seen;
    usleep(200);
  }
}
`;

test('threads: 2 runs two calls at the same time; threads: 1 does not', async (t) => {
  const dir = await makeTempDir();
  const library = await buildC(RENDEZVOUS, join(dir, 'librendezvous.so'));
  const functions = { rendezvous: 'int32_t rendezvous(int32_t, int32_t)' };

  const two = await createIsolatedHost({ library, functions, threads: 2 });
  t.after(() => two.close());
  const both = await Promise.all([two.call('rendezvous', 2, 10_000), two.call('rendezvous', 2, 10_000)]);
  assert.deepEqual(both, [2, 2], 'each call saw the other one arrive while it was running');

  // The control: one worker runs the calls one after the other, so the first one waits
  // alone until its deadline.
  const one = await createIsolatedHost({ library, functions, threads: 1 });
  t.after(() => one.close());
  const serial = await Promise.all([one.call('rendezvous', 2, 300), one.call('rendezvous', 2, 300)]);
  assert.deepEqual(serial, [1, 2]);
});
