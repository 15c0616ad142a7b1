// Calls in flight across a swap: they finish on the old version, reload() does not wait
// for them, and a call made after reload() resolves runs on the new version. No timing:
// the native calls block until the test creates a file, which it does only after
// reload() has resolved.
import assert from 'node:assert/strict';
import { access, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createIsolatedHost, type VersionInfo } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, holdingSource } from './helpers/native.js';

after(removeTempDirs);


const FUNCTIONS = {
  version: 'int32_t version(void)',
  hold: 'int32_t hold(const char *, const char *)',
};

async function waitForFile(path: string): Promise<void> {
  for (;;) {
    try { return await access(path); } catch { await sleep(5); }
  }
}

test('calls in flight finish on the old version; reload() resolves before them', { timeout: 30_000 }, async (t) => {
  const dir = await makeTempDir();
  const library = await buildC(holdingSource(1), join(dir, 'libhold.so'));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, threads: 2 });
  t.after(() => host.close());
  const go = join(dir, 'go');

  // One blocked call per worker of version 1, both running native code, and a third
  // queued behind them: sent to version 1, not started yet.
  const started = [join(dir, 'started-a'), join(dir, 'started-b')];
  const settled: number[] = [];
  const inflight = [
    host.call('hold', started[0], go),
    host.call('hold', started[1], go),
    host.call('hold', join(dir, 'started-c'), go),
  ];
  for (const [i, p] of inflight.entries()) void p.then(() => settled.push(i), () => settled.push(i));
  await Promise.all(started.map(waitForFile));

  let retired: VersionInfo | undefined;
  host.on('retired', (v) => { retired = v; });
  await buildC(holdingSource(2), library);
  const next = await host.reload();

  assert.equal(next.id, 2);
  assert.deepEqual(settled, [], 'reload() resolved while every call on version 1 was still blocked');
  assert.equal(retired, undefined, 'version 1 cannot retire while its calls are in flight');
  assert.equal(host.history.find((v) => v.id === 1)?.status, 'draining');
  assert.equal(await host.call('version'), 2, 'a call made after reload() resolved runs on the new version');

  const retiredEvent = once(host, 'retired') as Promise<[VersionInfo]>;
  await writeFile(go, '');
  assert.deepEqual(await Promise.all(inflight), [1, 1, 1], 'every call in flight answered from version 1');
  const [gone] = await retiredEvent;
  assert.equal(gone.id, 1);
  assert.equal(gone.status, 'retired');
  assert.equal(await host.call('version'), 2);
});

test('a call made after reload() resolves never runs on the old version, even with calls queued there', { timeout: 30_000 }, async (t) => {
  const dir = await makeTempDir();
  const library = await buildC(holdingSource(1), join(dir, 'libhold.so'));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, threads: 1 });
  t.after(() => host.close());
  const go = join(dir, 'go');

  // Version 1's only worker is blocked: if a later call were routed to it, it would
  // wait behind the held call and return 1 (or never come back before `go`).
  const held = host.call('hold', join(dir, 'started'), go);
  await waitForFile(join(dir, 'started'));
  await buildC(holdingSource(2), library);
  await host.reload();
  const after = await Promise.all([host.call('version'), host.fns.version(), host.call('version')]);
  assert.deepEqual(after, [2, 2, 2]);

  await writeFile(go, '');
  assert.equal(await held, 1);
});
