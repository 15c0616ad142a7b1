// Globals in the isoswap_state section survive swaps (issue 12): copied from the old version
// after its isoswap_unload, before the new one's isoswap_load, in both isolations, with or
// without a state block; the size-change rule; a library without the section is unaffected.
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { buildRust, cargoAvailable, makeTempDir, removeTempDirs } from './helpers/native.js';
import { buildSectionFixture, SECTION_FUNCTIONS } from './helpers/section-fixture.js';

after(removeTempDirs);

const ISOLATIONS = ['thread', 'process'] as const;
const SWAPS = 20;

for (const isolation of ISOLATIONS) {
  // thread without a state block, process with one: both isolations, both ways.
  for (const state of [isolation === 'process']) {
    test(`two ISOSWAP_STATE counters go on across ${SWAPS} swaps; a plain static restarts (${isolation}${state ? ', with a state block' : ''})`, async (t) => {
      const dir = await makeTempDir();
      const library = join(dir, 'libgame.so');
      // Two builds, swapped in turn: every swap loads other code than the one serving.
      const builds = await Promise.all([1, 2].map((k) => buildSectionFixture({ k }, join(dir, `build${k}.so`))));
      await copyFile(builds[0]!, library);
      const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation, ...(state ? { state: { bytes: 64 } } : {}) });
      t.after(() => host.close());
      let frames = 0;
      for (let swap = 0; swap <= SWAPS; swap++) {
        for (let i = 0; i < 3; i++) assert.equal(await host.call('frame'), ++frames);
        assert.equal(host.callSync('second'), 2 * frames, 'the second counter too');
        assert.equal(await host.call('plain'), 3, 'an ordinary static starts again in every version');
        assert.equal(await host.call('build'), swap % 2 === 0 ? 1 : 2);
        if (swap === SWAPS) break;
        await copyFile(builds[(swap + 1) % 2]!, library);
        const to = await host.reload();
        assert.equal(to.id, swap + 2);
      }
      assert.equal(frames, 3 * (SWAPS + 1));
    });
  }

  test(`a section that changes size is refused (ERR_STATE_LAYOUT) unless the new version declares ISOSWAP_STATE_PREFIX_OK (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildSectionFixture({ k: 1, asStruct: true }, library);
    const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation });
    t.after(() => host.close());
    for (let i = 0; i < 5; i++) await host.call('frame');

    await buildSectionFixture({ k: 2, asStruct: true, extraField: true }, library);
    await assert.rejects(host.reload(), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_STATE_LAYOUT'
      && (err.details['bytes'] as number) - (err.details['previousBytes'] as number) === 4); // one int32_t field more
    assert.equal(host.current.id, 1, 'the old version serves on');
    assert.equal(await host.call('frame'), 6, 'with its globals untouched');

    await buildSectionFixture({ k: 3, asStruct: true, extraField: true, prefixOk: true }, library);
    await host.reload();
    assert.equal(await host.call('build'), 3);
    assert.equal(await host.call('frame'), 7, 'the common prefix (both counters) was copied');
    assert.equal(await host.call('extra'), 7, 'the new field keeps its initial value');

    await buildSectionFixture({ k: 4, asStruct: true }, library);
    await assert.rejects(host.reload(), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_STATE_LAYOUT', 'shrinking is a change too');
  });

  test(`a library without the section is unaffected: no pause, its statics start over (${isolation})`, async (t) => {
    const library = join(await makeTempDir(), 'libgame.so');
    await buildSectionFixture({ k: 1, section: false }, library);
    const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation });
    t.after(() => host.close());
    const pauses: Array<number | undefined> = [];
    host.on('swap', (e) => pauses.push(e.pauseMs));
    assert.equal(await host.call('frame'), 1);
    assert.equal(await host.call('frame'), 2);
    await buildSectionFixture({ k: 2, section: false }, library);
    await host.reload();
    assert.equal(await host.call('frame'), 1, 'nothing was carried');
    assert.deepEqual(pauses, [undefined], 'and calls were never held');
  });
}

test('a version restarted after a crash starts from the section bytes taken at the last swap (process)', async (t) => {
  const library = join(await makeTempDir(), 'libgame.so');
  await buildSectionFixture({ k: 1 }, library);
  const host = await createIsolatedHost({ library, functions: SECTION_FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  host.on('error', () => {});
  for (let i = 0; i < 4; i++) await host.call('frame');
  await buildSectionFixture({ k: 2 }, library);
  await host.reload(); // takes frames = 4
  for (let i = 0; i < 3; i++) await host.call('frame'); // 7, lost with the crash
  const restarted = new Promise((resolve) => host.once('swap', resolve));
  await assert.rejects(host.call('crash'), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_VERSION_CRASHED');
  await restarted;
  assert.equal(await host.call('frame'), 5, 'from the bytes of the last swap');
});

test('a Rust #[link_section = "isoswap_state"] static goes on across 20 swaps (thread and process)', { skip: !cargoAvailable() && 'cargo not on the PATH' }, async (t) => {
  const source = (k: number): string => `
#[link_section = "isoswap_state"]
#[used]
static mut FRAMES: i32 = 0;
#[no_mangle]
pub extern "C" fn frame() -> i32 { unsafe { FRAMES += 1; FRAMES } }
#[no_mangle]
pub extern "C" fn build() -> i32 { ${k} }
`;
  const builds = [await buildRust(source(1), 'rustsection1'), await buildRust(source(2), 'rustsection2')];
  for (const isolation of ISOLATIONS) {
    const library = join(await makeTempDir(), 'librust.so');
    await copyFile(builds[0]!, library);
    const host = await createIsolatedHost({ library, functions: { frame: 'int32_t frame(void)', build: 'int32_t build(void)' }, isolation });
    t.after(() => host.close());
    let frames = 0;
    for (let swap = 0; swap <= SWAPS; swap++) {
      assert.equal(host.callSync('frame'), ++frames, `${isolation}, after ${swap} swaps`);
      assert.equal(await host.call('build'), swap % 2 === 0 ? 1 : 2);
      if (swap === SWAPS) break;
      await copyFile(builds[(swap + 1) % 2]!, library);
      await host.reload();
    }
    await host.close();
  }
});
