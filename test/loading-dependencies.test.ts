// Dependencies resolve as they would for the original file: a library that finds a
// sibling through $ORIGIN loads, calls and swaps; a Rust dylib built with -C prefer-dynamic
// is refused with ERR_DEPENDENCY_MISSING (naming libstd-…, with the sysroot hint) until
// libraryPath names the toolchain's lib dir. Both isolations.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createIsolatedHost, IsoswapError, type Isolation } from '../src/index.js';
import { buildC, buildRust, cargoAvailable, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const run = promisify(execFile);
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };
const ISOLATIONS: Isolation[] = ['thread', 'process'];

/** libmain.so (do_tick = x * k + helper_value()) beside libhelper.so (no SONAME), found
 *  through RPATH $ORIGIN, exactly as a C project with a helper library builds them. */
async function originPair(dir: string, k: number): Promise<string> {
  await buildC('int helper_value(void) { return 1000; }\n', join(dir, 'libhelper.so'));
  return buildC(`#include <stdint.h>\nint helper_value(void);\nint32_t do_tick(int32_t x) { return x * ${k} + helper_value(); }\n`,
    join(dir, 'libmain.so'), [`-L${dir}`, '-lhelper', '-Wl,-rpath,$ORIGIN']);
}

describe('$ORIGIN: a sibling dependency', () => {
  for (const isolation of ISOLATIONS) {
    test(`loads, calls and swaps (isolation: ${isolation})`, async (t) => {
      const dir = await makeTempDir();
      const library = await originPair(dir, 1);
      const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation });
      t.after(() => host.close());
      assert.equal(await host.call('do_tick', 5), 1005);
      await originPair(dir, 2);
      await host.reload();
      assert.equal(await host.call('do_tick', 5), 1010, 'the new build serves, with its sibling');
      assert.equal(host.current.id, 2);
    });
  }

  test('a sibling that is gone: ERR_DEPENDENCY_MISSING names it, the library and the $ORIGIN searched', async () => {
    const dir = await makeTempDir();
    const library = await originPair(dir, 1);
    await run('rm', [join(dir, 'libhelper.so')]);
    const err = await createIsolatedHost({ library, functions: FUNCTIONS }).then(() => assert.fail('it loaded'), (e: unknown) => e);
    assert.ok(err instanceof IsoswapError);
    assert.equal(err.code, 'ERR_DEPENDENCY_MISSING', err.message);
    assert.equal(err.details.dependency, 'libhelper.so');
    assert.equal(err.details.neededBy, library);
    assert.ok((err.details.searched as string[]).includes(dir), `$ORIGIN (${dir}) is among the places searched: ${err.message}`);
    assert.match(err.message, /--lib-path/);
  });
});

describe('a Rust dylib built with -C prefer-dynamic', { skip: !cargoAvailable() && 'cargo is not installed' }, () => {
  let library = '';
  let rustLib = '';
  before(async () => {
    library = await buildRust('#[no_mangle]\npub extern "C" fn do_tick(x: i32) -> i32 { format!("{}", x + 7).parse().unwrap() }\n',
      'dyn_game', { crateType: 'dylib', rustflags: '-C prefer-dynamic' });
    const sysroot = (await run('rustc', ['--print', 'sysroot'])).stdout.trim();
    const host = /^host: (.+)$/m.exec((await run('rustc', ['-vV'])).stdout)![1]!;
    rustLib = join(sysroot, 'lib', 'rustlib', host, 'lib');
  });

  for (const isolation of ISOLATIONS) {
    test(`is refused with ERR_DEPENDENCY_MISSING naming libstd-…, then serves with libraryPath (isolation: ${isolation})`, async (t) => {
      const err = await createIsolatedHost({ library, functions: FUNCTIONS, isolation }).then(() => assert.fail('it loaded'), (e: unknown) => e);
      assert.ok(err instanceof IsoswapError);
      assert.equal(err.code, 'ERR_DEPENDENCY_MISSING', err.message);
      assert.match(String(err.details.dependency), /^libstd-[0-9a-f]+\.so$/);
      assert.equal(err.details.neededBy, library);
      assert.ok(err.message.includes(String(err.details.dependency)) && err.message.includes(library));
      assert.ok(err.message.includes('rustc --print sysroot'), `the hint names the sysroot command: ${err.message}`);

      const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation, libraryPath: [rustLib] });
      t.after(() => host.close());
      assert.equal(await host.call('do_tick', 1), 8);
      await host.reload();
      assert.equal(await host.call('do_tick', 2), 9, 'a reload resolves libstd again');
    });
  }
});
