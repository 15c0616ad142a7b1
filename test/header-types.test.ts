// A host declared by `header` with the module `isoswap types` writes (the compile-only
// checks of its types are in test/types/header-functions.ts) is typed like hand-written
// prototypes: results and arguments. The @ts-expect-error lines fail the build if not.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { functions } from './fixtures/header/game-functions.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

test('a host declared by header + the generated functions is typed like hand-written prototypes', async () => {
  const header = fileURLToPath(new URL('../../test/fixtures/header/game.h', import.meta.url));
  const source = await readFile(new URL('../../test/fixtures/header/game.c', import.meta.url), 'utf8');
  const host = await createIsolatedHost({ library: await buildC(source, undefined, [`-I${dirname(header)}`]), header, functions });
  try {
    const score: number = await host.fns.do_tick(2);
    const hello: string | null = await host.call('greet');
    const even: boolean = host.callSync('is_even', 4);
    // @ts-expect-error do_tick gives a number, not a string
    const wrong: string = await host.fns.do_tick(0);
    // @ts-expect-error do_tick takes one number
    await assert.rejects(host.fns.do_tick('one', 2), { code: 'ERR_BAD_ARGUMENTS' });
    assert.deepEqual([score, hello, even, wrong], [2, 'hello from game.h', true, 2]);
  } finally {
    await host.close();
  }
});
