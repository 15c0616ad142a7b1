// Handles: `await new addon.exports.Counter(5)` is an object that stays in the version that
// made it. Its calls run there after reloads (the one exception to "a call after reload runs
// on the new version"), and that version is torn down only once its last handle is gone:
// released, timed out, beyond keepHandleVersions, at a state hand-over, or at close().
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createAddonHost, createIsolatedHost, type AddonHost, type Handle, type VersionInfo } from '../src/index.js';
import { buildValuesAddon, type Counter, type ValuesAddon } from './helpers/values-addon.js';
import { buildC, removeTempDirs, tickSource } from './helpers/native.js';
import { typed } from './helpers/typed-error.js';

after(removeTempDirs);

const SWAPS = 20;
const BOUND_MS = 60_000;

/** The `retired` event of version `id` (bounded: a test that waits must end). */
function retiredOf(addon: AddonHost<ValuesAddon>, id: number): Promise<VersionInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`version ${id} did not retire within ${BOUND_MS} ms`)), BOUND_MS);
    const listener = (info: VersionInfo): void => {
      if (info.id !== id) return;
      clearTimeout(timer);
      addon.off('retired', listener);
      resolve(info);
    };
    addon.on('retired', listener);
  });
}

const infoOf = (addon: AddonHost<ValuesAddon>, id: number): VersionInfo => addon.history.find((v) => v.id === id)!;

for (const isolation of ['thread', 'process'] as const) {
  test(`a handle answers from its own version across ${SWAPS} swaps under concurrent callers; its version is torn down only after its last handle is released (${isolation})`, async () => {
    const file = await buildValuesAddon(1);
    const addon = await createAddonHost<ValuesAddon>({ addon: file, isolation, keepHandleVersions: 3 });
    const retired = new Set<number>();
    addon.on('retired', (info) => retired.add(info.id));
    // Callers that never stop: each call answers from the version serving when it was made.
    let running = true;
    const failures: unknown[] = [];
    const callers = Array.from({ length: 4 }, async () => {
      while (running) {
        const build = await addon.exports.ns.build().catch((err: unknown) => { failures.push(err); return 0; });
        if (build !== 1 && build !== 2) failures.push(new Error(`build ${build}`));
      }
    });
    try {
      for (let round = 1; round <= SWAPS; round++) {
        const version = addon.current;
        const build = round % 2 === 1 ? 1 : 2;
        const counter = await new addon.exports.Counter(round * 10);
        // A result that is a class instance is a handle too (typed as the class: cast it).
        const made = await addon.exports.makeCounter(round) as unknown as Handle<Counter>;
        assert.equal(addon.current.handles, 2);
        const next = buildValuesAddon(3 - build, file);
        await next;
        // Calls on the handles while the swap runs and after it: all on their own version.
        const during = Array.from({ length: 10 }, () => counter.add(1));
        const swapped = await addon.reload();
        assert.equal(swapped.id, version.id + 1);
        const after = Array.from({ length: 10 }, () => counter.add(1));
        const results = await Promise.all([...during, ...after]);
        assert.ok(results.every((r) => r % 1000 === build), `round ${round}: every answer from build ${build}`);
        assert.equal(Math.max(...results), (round * 10 + 20) * 1000 + build, 'the counter inside the object counted all 20');
        assert.equal(await counter.build(), build);
        assert.equal(await made.add(0) % 1000, build);
        assert.equal(await addon.exports.ns.build(), 3 - build, 'a call on the exports runs on the new version');
        // Pinned: draining, its handles counted, its copy still on disk, not retired.
        assert.equal(infoOf(addon, version.id).status, 'draining');
        assert.equal(infoOf(addon, version.id).handles, 2);
        assert.ok(existsSync(version.copy));
        assert.ok(!retired.has(version.id));
        const gone = retiredOf(addon, version.id);
        await counter[Symbol.asyncDispose]();
        assert.equal(infoOf(addon, version.id).handles, 1, 'one released, one left');
        assert.equal(await made.get(), round, 'the other handle still answers');
        assert.ok(!retired.has(version.id), 'still pinned by its last handle');
        await made[Symbol.asyncDispose]();
        const info = await gone;
        assert.equal(info.status, 'retired');
        assert.equal(info.handles, 0);
        assert.ok(!existsSync(version.copy), 'torn down: the copy is removed');
        await assert.rejects(counter.add(1), typed('ERR_VERSION_RETIRED'));
      }
    } finally {
      running = false;
      await Promise.all(callers);
      await addon.close();
    }
    assert.deepEqual(failures, []);
  });
}

test('handles end past handleTimeoutMs, beyond keepHandleVersions, at a state hand-over and at close(); garbage collection releases them', async (t) => {
  await t.test('handleTimeoutMs', async () => {
    const file = await buildValuesAddon(1);
    const addon = await createAddonHost<ValuesAddon>({ addon: file, handleTimeoutMs: 200 });
    try {
      const counter = await new addon.exports.Counter(1);
      const gone = retiredOf(addon, 1);
      await buildValuesAddon(2, file);
      await addon.reload();
      await gone;
      await assert.rejects(counter.add(1), typed('ERR_VERSION_RETIRED', { version: 1 }));
    } finally {
      await addon.close();
    }
  });

  await t.test('keepHandleVersions', async () => {
    const file = await buildValuesAddon(1);
    const addon = await createAddonHost<ValuesAddon>({ addon: file, keepHandleVersions: 1 });
    try {
      const first = await new addon.exports.Counter(1);
      await buildValuesAddon(2, file);
      await addon.reload();
      const second = await new addon.exports.Counter(2);
      const gone = retiredOf(addon, 1);
      await buildValuesAddon(1, file);
      await addon.reload(); // version 1 and 2 would both be kept: 1's handles end
      await gone;
      await assert.rejects(first.add(1), typed('ERR_VERSION_RETIRED'));
      assert.equal(await second.add(1), 3002, 'version 2 still serves its handle');
      assert.equal(infoOf(addon, 2).handles, 1);
    } finally {
      await addon.close();
    }
  });

  await t.test('a state hand-over', async () => {
    const file = await buildValuesAddon(1);
    const addon = await createAddonHost<ValuesAddon>({ addon: file, state: { bytes: 64 } });
    try {
      const counter = await new addon.exports.Counter(1);
      const gone = retiredOf(addon, 1);
      await buildValuesAddon(2, file);
      await addon.reload();
      await assert.rejects(counter.add(1), typed('ERR_VERSION_RETIRED', { version: 1 }));
      await gone;
    } finally {
      await addon.close();
    }
  });

  await t.test('close()', async () => {
    const addon = await createAddonHost<ValuesAddon>({ addon: await buildValuesAddon(1), isolation: 'process' });
    const counter = await new addon.exports.Counter(1);
    await addon.close();
    await assert.rejects(counter.add(1), typed('ERR_VERSION_RETIRED'));
  });

  await t.test('garbage collection', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const file = await buildValuesAddon(1);
    const addon = await createAddonHost<ValuesAddon>({ addon: file });
    try {
      await (async () => { await new addon.exports.Counter(1); })(); // dropped at once
      assert.equal(addon.current.handles, 1);
      const gone = retiredOf(addon, 1);
      await buildValuesAddon(2, file);
      await addon.reload();
      for (let i = 0; i < 100 && infoOf(addon, 1).handles > 0; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal((await gone).handles, 0);
    } finally {
      await addon.close();
    }
  });
});

test('VersionInfo.handles is 0 on a library host', async () => {
  const host = await createIsolatedHost({ library: await buildC(tickSource(1)), functions: { do_tick: 'int32_t do_tick(int32_t)' } });
  try {
    assert.equal(host.current.handles, 0);
  } finally {
    await host.close();
  }
});

