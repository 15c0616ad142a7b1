// Races between reload(), close(), calls in flight, the watcher and versions still
// draining. No timing: native calls that must stay in flight block until the test
// creates a file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { createIsolatedHost, type IsolatedHost, type IsolatedHostOptions, type IsoswapError, type SwapEvent, type VersionInfo } from '../src/index.js';
import { buildC, copiesIn, makeTempDir, mappedFiles, removeTempDirs, holdingSource } from './helpers/native.js';

after(removeTempDirs);


/** A constructor that makes dlopen of the build wait (bounded) until `go` exists. */
const slowLoad = (loading: string, go: string): string => `
__attribute__((constructor)) static void slow_load(void) {
  int fd = open(${JSON.stringify(loading)}, O_CREAT | O_WRONLY, 0600);
  if (fd >= 0) close(fd);
  for (int i = 0; i < 20000 && access(${JSON.stringify(go)}, F_OK) != 0; i++) usleep(1000);
}
`;

const functions = {
  version: 'int32_t version(void)',
  hold: 'int32_t hold(const char *, const char *)',
};

type Options = Partial<IsolatedHostOptions<typeof functions>>;

/** A host serving version 1 of dir/librace.so (its copies beside it, `.isoswap-*`). */
async function startHost(t: { after(fn: () => Promise<void>): void }, options: Options = {}) {
  const dir = await makeTempDir();
  const copies = join(dir, '.isoswap-');
  const library = await buildC(holdingSource(1), join(dir, 'librace.so'));
  const host = await createIsolatedHost({ library, functions, ...options });
  t.after(() => host.close());
  const retired: VersionInfo[] = [];
  const errors: IsoswapError[] = [];
  host.on('retired', (v) => retired.push(v));
  host.on('error', (e) => errors.push(e));
  /** Builds version k into place (renamed, as a linker does); resolves to its sha256. */
  const install = async (k: number, extra = ''): Promise<string> => {
    await buildC(holdingSource(k, extra), library);
    return createHash('sha256').update(await readFile(library)).digest('hex');
  };
  return { dir, copies, library, host, retired, errors, install };
}

async function waitFor(what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await ready()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** Starts a call to hold() and resolves once it runs natively (it stays in flight until `go`). */
async function holdCall(host: IsolatedHost<typeof functions>, dir: string, name: string, go: string): Promise<{ call: Promise<number> }> {
  const started = join(dir, `started-${name}`);
  const call = host.call('hold', started, go) as Promise<number>;
  call.catch(() => {}); // settled by the test; unhandled until then
  await waitFor(`${name} to run`, () => exists(started));
  return { call }; // wrapped: an async function returning the promise would wait for it
}

const isClosedError = (err: unknown): boolean => (err as IsoswapError).code === 'ERR_HOST_CLOSED';

test('two reload() calls at once join: both resolve to the same serving version', { timeout: 30_000 }, async (t) => {
  const { host, install } = await startHost(t);
  const sha = await install(2);
  const [a, b] = await Promise.all([host.reload(), host.reload()]);
  assert.equal(a.id, b.id, 'a reload() made while another waits to start joins it');
  assert.equal(a.sha256, sha);
  assert.equal(a.status, 'serving');
  assert.equal(host.current.id, a.id);
  assert.equal(await host.call('version'), 2);
  assert.equal(host.history.filter((v) => v.status === 'serving').length, 1);
});

test('a reload() made while another one loads is serialized after it; both resolve, the newest serves', { timeout: 30_000 }, async (t) => {
  const { host, install } = await startHost(t);
  await install(2);
  const first = host.reload();
  await tick(); // the first swap has started: it read the file and is loading it
  const sha3 = await install(3);
  const second = host.reload();
  const [a, b] = await Promise.all([first, second]);
  assert.ok(b.id > a.id, `the second reload() loaded again (ids ${a.id}, ${b.id})`);
  assert.equal(b.sha256, sha3);
  assert.equal(host.current.id, b.id);
  assert.equal(await host.call('version'), 3);
  assert.equal(host.history.filter((v) => v.status === 'serving').length, 1);
});

test('reload() after close() began rejects with ERR_HOST_CLOSED', { timeout: 30_000 }, async (t) => {
  const { host, install } = await startHost(t);
  await install(2);
  const closing = host.close();
  await assert.rejects(host.reload(), isClosedError);
  await closing;
  await assert.rejects(host.reload(), isClosedError);
});

test('reload() followed by close() in the same tick rejects with ERR_HOST_CLOSED; nothing is left', { timeout: 30_000 }, async (t) => {
  const { host, install, copies, dir } = await startHost(t);
  await install(2);
  const reload = host.reload();
  await host.close();
  await assert.rejects(reload, isClosedError);
  assert.deepEqual(await copiesIn(dir), []);
  assert.equal(await mappedFiles(copies), 0);
});

test('close() while a reload() is loading its version: the reload rejects with ERR_HOST_CLOSED; the new version is discarded', { timeout: 30_000 }, async (t) => {
  const { host, install, copies, retired, dir } = await startHost(t);
  const loading = join(dir, 'loading');
  const go = join(dir, 'go-load');
  await install(2, slowLoad(loading, go));
  const reload = host.reload();
  reload.catch(() => {}); // looked at below
  await waitFor('version 2 to be loading', () => exists(loading));
  const closing = host.close();
  await writeFile(go, '');
  await assert.rejects(reload, isClosedError);
  await closing;
  assert.deepEqual(retired.map((v) => v.id), [1], 'only the serving version retired; version 2 never served');
  assert.deepEqual(await copiesIn(dir), []);
  assert.equal(await mappedFiles(copies), 0);
});

test('close() with calls in flight: each completes or rejects with ERR_HOST_CLOSED; none hangs', { timeout: 30_000 }, async (t) => {
  const { host, dir } = await startHost(t, { threads: 1 });
  const go = join(dir, 'go');
  const { call: running } = await holdCall(host, dir, 'a', go);
  const queued = [host.call('hold', join(dir, 'started-b'), go), host.call('version')];
  for (const call of queued) call.catch(() => {}); // looked at below, with the others
  let closed = false;
  const closing = host.close().then(() => { closed = true; });
  const late = host.call('version');
  late.catch(() => {}); // looked at below, with the others
  await tick();
  assert.equal(closed, false, 'close() waits for the calls in flight');
  await writeFile(go, '');
  const outcomes = await Promise.allSettled([running, ...queued, late]);
  await closing;
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') assert.equal(outcome.value, 1, `call ${i} ran on version 1`);
    else assert.ok(isClosedError(outcome.reason), `call ${i} rejected with ${String(outcome.reason)}`);
  }
  assert.deepEqual(outcomes.slice(0, 3).map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled'], 'calls made before close() complete');
  assert.equal(outcomes[3]!.status, 'rejected', 'a call made after close() rejects');
});

test('close() during a state hand-over, with a call held at the gate: nothing hangs, outcomes are typed', { timeout: 30_000 }, async (t) => {
  const { host, dir, install, copies } = await startHost(t, { state: { bytes: 64 } });
  const go = join(dir, 'go');
  const { call: running } = await holdCall(host, dir, 'a', go);
  await install(2);
  const reload = host.reload();
  // Version 2 is mapped: its load reply is on its way, then calls wait at the gate.
  await waitFor('version 2 to be loaded', async () => (await mappedFiles(copies)) === 2);
  await sleep(50);
  const gated = host.call('version'); // held: version 1 drains before version 2 takes the block
  gated.catch(() => {}); // looked at below
  const closing = host.close();
  await writeFile(go, '');
  const [held, atGate, swapped] = await Promise.allSettled([running, gated, reload]);
  await closing;
  assert.deepEqual(held, { status: 'fulfilled', value: 1 });
  if (atGate.status === 'fulfilled') assert.ok(atGate.value === 1 || atGate.value === 2);
  else assert.ok(isClosedError(atGate.reason), String(atGate.reason));
  if (swapped.status === 'rejected') assert.ok(isClosedError(swapped.reason), String(swapped.reason));
  assert.deepEqual(await copiesIn(dir), []);
});

test('a swap while the previous version still drains: v1 blocked, swap to v2, swap to v3; all resolve, v1 and v2 retire', { timeout: 30_000 }, async (t) => {
  const { host, dir, install, retired, errors } = await startHost(t);
  const go = join(dir, 'go');
  const { call: blocked } = await holdCall(host, dir, 'v1', go);
  await install(2);
  const v2 = await host.reload();
  await install(3);
  const v3 = await host.reload();
  assert.deepEqual([v2.id, v3.id], [2, 3]);
  assert.equal(await host.call('version'), 3);
  await waitFor('version 2 to retire', () => retired.some((v) => v.id === 2));
  assert.equal(host.history.find((v) => v.id === 1)?.status, 'draining', 'version 1 still drains its blocked call');
  await writeFile(go, '');
  assert.equal(await blocked, 1, 'the blocked call completes on version 1');
  await waitFor('version 1 to retire', () => retired.some((v) => v.id === 1));
  assert.deepEqual(retired.map((v) => v.id).sort(), [1, 2]);
  assert.ok(retired.every((v) => v.status === 'retired'));
  assert.equal(host.current.id, 3);
  assert.deepEqual(errors, []);
});

test('watch events during a manual reload(): the watcher does not serve the build reload() just served again', { timeout: 30_000 }, async (t) => {
  const { host, install, errors } = await startHost(t, { watch: true });
  const swaps: SwapEvent[] = [];
  host.on('swap', (s) => swaps.push(s));
  // The watcher sees this build too, while reload() is loading it.
  const sha2 = await install(2);
  const reloaded = await host.reload();
  assert.equal(reloaded.sha256, sha2);
  // The watcher handles changes one at a time: once it has served build 3, it is done with 2.
  const sha3 = await install(3);
  await waitFor('the watcher to serve build 3', () => host.current.sha256 === sha3);
  assert.equal(await host.call('version'), 3);
  const watchRepeats = swaps.filter((s) => s.reason === 'watch' && s.from.sha256 === s.to.sha256);
  assert.deepEqual(watchRepeats.map((s) => `${s.from.id}->${s.to.id}`), [], 'the watcher swapped in a build that already served');
  // (When the watcher wins the race, reload() loads the build once more: it was asked to.)
  assert.ok(swaps.some((s) => s.to.sha256 === sha2), 'build 2 served');
  assert.deepEqual(errors, []);
});
