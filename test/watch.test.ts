import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, open, readFile, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createIsolatedHost, type IsolatedHost, type IsoswapError, type SwapEvent } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const functions = { do_tick: 'int32_t do_tick(int32_t)' };
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A library being watched at dir/libgame.so, serving tickSource(1), and what it emits. */
async function watchedHost(t: { after(fn: () => Promise<void>): void }, extra = '') {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  await buildC(tickSource(1, extra), library);
  const host = await createIsolatedHost({ library, functions, watch: true });
  t.after(() => host.close());
  const swaps: SwapEvent[] = [];
  const errors: IsoswapError[] = [];
  host.on('swap', (s) => swaps.push(s));
  host.on('error', (e) => errors.push(e));
  return { dir, library, host, swaps, errors };
}

/** Calls do_tick(0) back to back (it returns the build's k) until stopped. */
function startCaller(host: IsolatedHost) {
  const results: number[] = [];
  const failures: unknown[] = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      try { results.push(await host.call('do_tick', 0)); } catch (err) { failures.push(err); }
    }
  })();
  return {
    results,
    failures,
    async stop() { stopped = true; await running; },
  };
}

/** Resolves with the first event of `name` that `pred` accepts; rejects after 10 s. */
function nextEvent<T>(host: IsolatedHost, name: 'swap' | 'error', pred: (arg: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ${name} event within 10 s`)), 10_000);
    const listener = (arg: T): void => {
      if (!pred(arg)) return;
      clearTimeout(timer);
      host.off(name, listener as never);
      resolve(arg);
    };
    host.on(name, listener as never);
  });
}

/** Results must step from one build to the next, never back, with no failed call. */
function assertMonotonic(results: number[], allowed: number[]): void {
  assert.ok(results.length > 0, 'the caller made calls');
  for (const r of results) assert.ok(allowed.includes(r), `unexpected result ${r}`);
  for (let i = 1; i < results.length; i++) {
    assert.ok(allowed.indexOf(results[i]!) >= allowed.indexOf(results[i - 1]!), `went back from ${results[i - 1]} to ${results[i]}`);
  }
}

test('a build renamed into place right after start is served; calls throughout all succeed', async (t) => {
  const { library, host, swaps, errors } = await watchedHost(t);
  const next = await buildC(tickSource(2));
  const caller = startCaller(host);
  const swapped = nextEvent<SwapEvent>(host, 'swap');
  await copyFile(next, `${library}.tmp`);
  await rename(`${library}.tmp`, library);
  const swap = await swapped;
  assert.equal(swap.reason, 'watch');
  assert.equal(swap.to.sha256, sha(await readFile(next)));
  assert.equal(await host.call('do_tick', 0), 2);
  await caller.stop();
  assert.deepEqual(caller.failures, []);
  assertMonotonic(caller.results, [1, 2]);
  assert.equal(swaps.length, 1);
  assert.deepEqual(errors, []);
});

test('delete and re-create: the re-created build is served, the gap is no error', async (t) => {
  const { library, host, errors } = await watchedHost(t);
  const bytes = await readFile(await buildC(tickSource(3)));
  const caller = startCaller(host);
  await unlink(library);
  await sleep(100);
  const swapped = nextEvent<SwapEvent>(host, 'swap');
  await writeFile(library, bytes);
  assert.equal((await swapped).to.sha256, sha(bytes));
  await caller.stop();
  assert.deepEqual(caller.failures, []);
  assertMonotonic(caller.results, [1, 3]);
  assert.deepEqual(errors, []);
});

test('a slow in-place write is served once, complete, and never before', async (t) => {
  // A 64 KiB table makes the library big enough to be written in many steps.
  const pad = 'const char isoswap_pad[65536] = { 1 };';
  const { library, host, swaps, errors } = await watchedHost(t, pad);
  const bytes = await readFile(await buildC(tickSource(4, pad)));
  const caller = startCaller(host);
  let writing = true;
  const swappedWhileWriting: boolean[] = [];
  host.on('swap', () => swappedWhileWriting.push(writing));
  const swapped = nextEvent<SwapEvent>(host, 'swap');
  const file = await open(library, 'w'); // truncates: the file is incomplete from now on
  for (let at = 0; at < bytes.length; at += 4096) {
    if (at > 0) await sleep(10);
    await file.write(bytes, at, Math.min(4096, bytes.length - at), at);
  }
  writing = false;
  await file.close();
  const swap = await swapped;
  assert.equal(swap.to.sha256, sha(bytes));
  await caller.stop();
  assert.deepEqual(swappedWhileWriting, [false]);
  assert.equal(swaps.length, 1, 'the events of one write are one swap');
  assert.deepEqual(caller.failures, []);
  assertMonotonic(caller.results, [1, 4]);
  assert.deepEqual(errors, []);
});

test('broken builds (garbage, truncated, missing symbol) give an error each; service goes on; the next good build is served', async (t) => {
  const { library, host, errors } = await watchedHost(t);
  const good = await readFile(await buildC(tickSource(5)));
  const noSymbol = await readFile(await buildC('#include <stdint.h>\nint32_t version(void) { return 9; }\n'));
  const caller = startCaller(host);
  const save = async (bytes: Buffer): Promise<void> => {
    await writeFile(`${library}.tmp`, bytes);
    await rename(`${library}.tmp`, library);
  };
  const cases: Array<[Buffer, string]> = [
    [randomBytes(20_000), 'ERR_NOT_A_LIBRARY'],
    [good.subarray(0, Math.floor(good.length / 2)), 'ERR_NOT_A_LIBRARY'],
    [noSymbol, 'ERR_SYMBOL_MISSING'],
  ];
  for (const [bytes, code] of cases) {
    const failed = nextEvent<IsoswapError>(host, 'error');
    await save(bytes);
    const err = await failed;
    assert.equal(err.code, code);
    assert.match(err.message, /libgame\.so|do_tick/);
    assert.equal(await host.call('do_tick', 0), 1, 'the first build serves on');
  }
  const swapped = nextEvent<SwapEvent>(host, 'swap');
  await save(good);
  assert.equal((await swapped).to.sha256, sha(good));
  await caller.stop();
  assert.deepEqual(caller.failures, []);
  assertMonotonic(caller.results, [1, 5]);
  assert.equal(errors.length, 3);
  assert.equal(host.current.sha256, sha(good));
});

test('a burst of saves is one swap, to the last build', async (t) => {
  const { dir, library, host, swaps } = await watchedHost(t);
  const staged: string[] = [];
  for (let k = 6; k <= 10; k++) {
    staged.push(join(dir, `staged-${k}.so`));
    await copyFile(await buildC(tickSource(k)), staged.at(-1)!);
  }
  const swapped = nextEvent<SwapEvent>(host, 'swap');
  for (const file of staged) renameSync(file, library); // no event is seen before the last
  assert.equal((await swapped).to.sha256, host.current.sha256);
  assert.equal(await host.call('do_tick', 0), 10);
  await sleep(300); // time for any event left over to (wrongly) cause a second swap
  assert.equal(swaps.length, 1);
});

// chokidar reports the first save and drops the second (same path, < 50 ms later). Right
// after the swap the watcher's round may still be on (its look again can find the second
// save); 15 ms later it has most likely ended: only the raw fs.watch events tell then.
for (const pause of [0, 15]) {
  test(`a second save inside chokidar's 50 ms throttle window is not lost (${pause} ms after the first swap)`, async (t) => {
    const { library, host } = await watchedHost(t);
    const a = await buildC(tickSource(11));
    const b = await buildC(tickSource(12));
    await copyFile(a, `${library}.a`);
    await copyFile(b, `${library}.b`);
    const bSha = sha(await readFile(b));
    await rename(`${library}.a`, library);
    await nextEvent<SwapEvent>(host, 'swap');
    await sleep(pause);
    await rename(`${library}.b`, library);
    await nextEvent<SwapEvent>(host, 'swap', (s) => s.to.sha256 === bSha);
    assert.equal(await host.call('do_tick', 0), 12);
  });
}

test('a build renamed into place with the same mtime as the one it replaces is served (cp -p, a build cache)', async (t) => {
  const { library, host } = await watchedHost(t);
  const staged = `${library}.cached`;
  await copyFile(await buildC(tickSource(13)), staged);
  // chokidar's own test is "mtime changed, or atime <= mtime": here neither holds.
  const mtime = new Date(Date.now() - 60_000);
  await utimes(library, new Date(), mtime);
  await utimes(staged, new Date(), mtime);
  await sleep(200); // the events of utimes are over, and chokidar's throttle window too
  const swapped = nextEvent<SwapEvent>(host, 'swap');
  await rename(staged, library);
  await swapped;
  assert.equal(await host.call('do_tick', 0), 13);
});
