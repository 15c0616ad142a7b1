// Process isolation's call ring on Windows (src/transport/named-ring.ts: a named file
// mapping, named events, named pipes), run by the Windows lane: every type the ring
// carries gives what IPC gives, in call and callSync; a long string result comes over the
// spill pipe; the state block lives in a named mapping every child maps.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createIsolatedHost, type IsoswapError } from '../../src/index.js';
import { NOT_FAST } from '../../src/transport/call-channel.js';
import { ChildProcessHandle } from '../../src/runtime/process/child-process-handle.js';
import { RING_TYPES, ringTypeCases, unshared } from '../helpers/ring-types-fixture.js';
import { fixturePath } from './dll-fixtures.js';
import { hostFiles, install, rejectsWith, removeDirs, tempDir } from './windows-helpers.js';

describe('the process call ring on Windows', () => {
  after(removeDirs);

  test('every type the ring carries: call and callSync on the ring give what IPC gives, long strings included', async () => {
    const library = fixturePath('ringtypes.dll');
    const child = new ChildProcessHandle();
    try {
      assert.ok(child.channel !== null, 'a child gets a ring on Windows');
      const report = await child.request((r) => r.load({ library, copy: library, functions: RING_TYPES, processRing: true }));
      child.channel.open(report, undefined);
      assert.deepEqual(Object.keys(report.fast ?? {}).sort(), Object.keys(RING_TYPES).sort(), 'every function is on the ring');
      for (const round of [1, 2]) { // the second time a long string fits the room that grew for it
        for (const [name, args] of ringTypeCases(new SharedArrayBuffer(64))) {
          const what = `${name}(${args.map((a) => (typeof a === 'string' && a.length > 20 ? `${a.slice(0, 20)}…` : String(a))).join(', ')}) round ${round}`;
          const viaMessage = await child.request((r) => r.call(name, args.map(unshared)));
          const onRing = child.channel.call(name, args);
          assert.ok(onRing !== undefined, `${what} goes on the ring`);
          assert.deepEqual(await onRing, viaMessage, what);
          const sync = child.channel.callSync(name, args);
          assert.notEqual(sync, NOT_FAST, what);
          assert.deepEqual(sync, viaMessage, `${what}, callSync`);
        }
      }
      const filled = new Uint8Array(4);
      child.channel.callSync('fill_u8', [filled, 4, 10]);
      assert.deepEqual([...filled], [10, 11, 12, 13], '_Out_ buffers come back');
    } finally {
      await child.kill();
    }
  });

  test('a process-isolated host: call and callSync back to back on the ring, under a swap', async () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)' }, isolation: 'process' });
    try {
      for (let i = 0; i < 200; i++) assert.equal(host.callSync('do_tick', i), i + 1);
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => host.call('do_tick', i)));
      assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i + 1));
      install('tick2.dll', library);
      await host.reload();
      assert.equal(host.callSync('version'), 2);
      assert.equal(await host.call('do_tick', 1), 3);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('callSync into a NULL dereference throws ERR_VERSION_CRASHED; rollback serves', async () => {
    const dir = tempDir();
    const library = install('safe.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({
      library, isolation: 'process',
      functions: { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)', crash_null: 'int32_t crash_null(int32_t)' },
    });
    try {
      install('crash.dll', library);
      await host.reload();
      assert.equal(host.callSync('version'), 2);
      assert.throws(() => host.callSync('crash_null', 1), (err: IsoswapError) => {
        assert.equal(err.code, 'ERR_VERSION_CRASHED', err.message);
        assert.equal((err.details.exitCode as number) >>> 0, 0xc0000005, err.message);
        return true;
      });
      await host.rollback();
      assert.equal(host.callSync('version'), 1);
      assert.equal(await host.call('do_tick', 1), 2);
      await rejectsWith(Promise.resolve().then(() => host.callSync('no_such' as 'version')), 'ERR_UNKNOWN_FUNCTION');
    } finally {
      await host.close();
    }
  });

  test('the state block (a named file mapping) is handed over across a process swap and read by the host', async () => {
    const dir = tempDir();
    const library = install('state1.dll', join(dir, 'state.dll'));
    const functions = { bump: 'int32_t bump(void)', version: 'int32_t version(void)', loads_seen: 'int32_t loads_seen(void)' };
    const host = await createIsolatedHost({ library, functions, isolation: 'process', state: { bytes: 64 } });
    try {
      const words = new Int32Array(host.state!.buffer, host.state!.byteOffset, 2);
      assert.deepEqual([...words], [1, 0], 'version 1 isoswap_load wrote into the block the host reads');
      words[0] = 100; // the host writes, the next version reads
      install('state2.dll', library);
      await host.reload();
      assert.equal(host.callSync('version'), 2);
      assert.deepEqual([...words], [102, 1], 'version 1 unloaded (word 1), version 2 loaded on the same memory (word 0)');
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('ten process swaps under 4 callers on the ring (call and callSync): none fails, none answered by an older version after reload() resolved', async () => {
    const dir = tempDir();
    const library = install('tick1.dll', join(dir, 'game.dll'));
    const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)' }, isolation: 'process' });
    let promised = 1; // the last reload that resolved (1: the first load)
    const build = (reload: number): number => (reload - 1) % 3 + 1; // tick1, 2, 3, 1, ...
    let stop = false;
    const stale: string[] = [];
    const failed: unknown[] = [];
    let answeredLast = 0;
    const caller = async (i: number): Promise<void> => {
      while (!stop) {
        const issued = promised;
        try {
          // one caller in four blocks: callSync shares the ring with the awaited calls
          const got: number = i === 0 ? host.callSync('version') : await host.call('version');
          // the build of the reload resolved when it was issued, or of one since (the next
          // may serve before its reload() resolves)
          const allowed = new Set<number>();
          for (let k = issued; k <= promised + 1; k++) allowed.add(build(k));
          if (!allowed.has(got)) stale.push(`caller ${i}: build ${got} after reload ${issued} resolved`);
          if (issued === 11) answeredLast++;
        } catch (err) {
          failed.push(err);
        }
        if (i === 0) await new Promise((resolve) => setImmediate(resolve)); // let the loop turn
      }
    };
    try {
      const callers = [0, 1, 2, 3].map(caller);
      for (let reload = 2; reload <= 11; reload++) {
        install(`tick${build(reload)}.dll`, library);
        const info = await host.reload();
        assert.equal(info.id, reload);
        promised = reload;
      }
      while (answeredLast < 200 && failed.length === 0) await new Promise((resolve) => setImmediate(resolve));
      stop = true;
      await Promise.all(callers);
      assert.deepEqual(failed, []);
      assert.deepEqual(stale, []);
    } finally {
      stop = true;
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });
});
