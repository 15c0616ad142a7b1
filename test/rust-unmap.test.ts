// The glibc trap (docs/architecture.md): a Rust cdylib with println! and a thread_local! (with a
// Drop) registers thread-local destructors, and glibc will not unmap it while they are
// pending. Loaded in a worker thread that exits, then swept, each retired copy must be
// unmapped: at most 2 copies mapped while serving, 0 after close, and a program that
// closes its host exits by itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createIsolatedHost, type VersionInfo } from '../src/index.js';
import { buildRust, cargoAvailable, makeTempDir, mappedFiles, removeTempDirs } from './helpers/native.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };

/** Version `k` returns x + k; every call touches a thread-local with a destructor and prints. */
const rustSource = (k: number): string => `
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

static DROPPED: AtomicU32 = AtomicU32::new(0);

struct Calls(Cell<i32>);
impl Drop for Calls {
    fn drop(&mut self) { DROPPED.fetch_add(1, Ordering::SeqCst); }
}

thread_local! { static CALLS: Calls = Calls(Cell::new(0)); }

#[no_mangle]
pub extern "C" fn do_tick(x: i32) -> i32 {
    let n = CALLS.with(|c| { c.0.set(c.0.get() + 1); c.0.get() });
    println!("# rust fixture v${k}: do_tick({}) call {} on this thread", x, n);
    x + ${k}
}
`;

async function putBuild(build: string, library: string): Promise<void> {
  await copyFile(build, `${library}.part`);
  await rename(`${library}.part`, library);
}

const skip = cargoAvailable() ? false : 'cargo is not installed: the Rust fixture cannot be built';

describe('a Rust cdylib with println! and thread_local!', { skip }, () => {
  let builds: [string, string];
  before(async () => {
    builds = [await buildRust(rustSource(1), 'unmap_one'), await buildRust(rustSource(2), 'unmap_two')];
  });
  after(removeTempDirs);

  test('swapped 20 times: at most 2 copies mapped while serving, 1 once retired, 0 after close', { timeout: 50_000 }, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await putBuild(builds[0], library);
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    t.after(() => host.close());
    const copies = dirname(host.current.copy);
    assert.equal(await host.call('do_tick', 0), 1);
    assert.equal(await mappedFiles(copies), 1);

    let peak = 1;
    for (let i = 1; i <= 20; i++) {
      const k = i % 2 === 1 ? 2 : 1;
      await putBuild(builds[k - 1]!, library);
      const retired = once(host, 'retired') as Promise<[VersionInfo]>;
      const next = await host.reload();
      assert.equal(await host.call('do_tick', 0), k);
      peak = Math.max(peak, await mappedFiles(copies));
      const [gone] = await retired;
      assert.equal(gone.id, next.id - 1);
      assert.equal(await mappedFiles(copies), 1, `after swap ${i} the retired copy is unmapped`);
    }
    assert.ok(peak <= 2, `at most 2 copies mapped while serving, saw ${peak}`);
    assert.equal(host.current.id, 21);

    await host.close();
    assert.equal(await mappedFiles(copies), 0, 'no copy mapped after close');
  });

  test('the control: loaded and unloaded on the main thread, glibc keeps it mapped', () => {
    const child = spawnSync(process.execPath, [join(FIXTURES, 'rust-main-thread.js'), builds[0]], { encoding: 'utf8', timeout: 30_000 });
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    assert.ok(last.startsWith('{'), `the control printed no result: ${child.stderr}`);
    assert.equal(JSON.parse(last).mappedAfterUnload, 1, 'the fixture registers thread-local destructors, or this test proves nothing');
  });

  test('a program that swaps and closes its host exits by itself with status 0', async () => {
    const library = join(await makeTempDir(), 'libgame.so');
    await putBuild(builds[0], library);
    const child = spawnSync(process.execPath, [join(FIXTURES, 'rust-swap-exit.js'), library, builds[0], builds[1], '6'],
      { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, null, `killed by ${child.signal}: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(last), { results: [1, 2, 1, 2, 1, 2, 1], mappedAfterClose: 0 });
  });
});
