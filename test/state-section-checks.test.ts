// An isoswap_state section the loader does not map writable in full is refused before
// anything reads or writes it (it was a segfault at the swap in thread isolation).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import elfy from 'elfy';
import { createIsolatedHost, type IsoswapError } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const functions = { do_tick: 'int32_t do_tick(int32_t)' };
const good = (k: number): string => `#include <stdint.h>
__attribute__((section("isoswap_state"), used)) static int32_t ticks = 0;
int32_t do_tick(int32_t x) { ticks += 1; return x + ${k}; }
`;
const readOnly = `#include <stdint.h>
__attribute__((section("isoswap_state"), used)) static const int32_t ticks = 5;
int32_t do_tick(int32_t x) { return x + ticks; }
`;
const notLoaded = `#include <stdint.h>
__asm__(".section isoswap_state,\\"\\",@progbits\\n.long 7\\n.previous");
int32_t do_tick(int32_t x) { return x + 3; }
`;

/** The build of `good(k)` with its section header claiming 1 MiB: past its segment. */
async function tooLarge(k: number): Promise<string> {
  const library = await buildC(good(k));
  const bytes = await readFile(library);
  const parser = new elfy.Parser();
  const header = parser.parseHeader(bytes);
  const sections = parser.parseSections(bytes, header);
  const names = sections[header.shstrndx]!;
  const index = sections.findIndex((s) => parser.resolveStr(names.data, s.name as number) === 'isoswap_state');
  assert.ok(index > 0);
  bytes.writeBigUInt64LE(1n << 20n, header.shoff + index * header.shentsize + 32); // Elf64_Shdr.sh_size
  await writeFile(library, bytes);
  return library;
}

const refused = (why: RegExp) => (err: IsoswapError): boolean => {
  assert.equal(err.code, 'ERR_STATE_SECTION', err.message);
  assert.match(err.message, why);
  return true;
};

for (const isolation of ['thread', 'process'] as const) {
  test(`an isoswap_state section that is read-only, not loaded or larger than its mapping is ERR_STATE_SECTION; the current version serves on (${isolation})`, async () => {
    const library = await buildC(good(1));
    const host = await createIsolatedHost({ library, functions, isolation });
    try {
      const cases: Array<[string, RegExp]> = [
        [await buildC(readOnly), /read-only/],
        [await buildC(notLoaded), /not loaded/],
        [await tooLarge(4), /runs past its segment/],
      ];
      for (const [bad, why] of cases) {
        await writeFile(library, await readFile(bad));
        await assert.rejects(host.reload(), refused(why));
        assert.equal(await host.call('do_tick', 1), 2, 'version 1 serves on');
        await assert.rejects(createIsolatedHost({ library: bad, functions, isolation }), refused(why));
      }
      await writeFile(library, await readFile(await buildC(good(5))));
      assert.equal((await host.reload()).id > 1, true);
      assert.equal(await host.call('do_tick', 1), 6);
    } finally {
      await host.close();
    }
  });
}
