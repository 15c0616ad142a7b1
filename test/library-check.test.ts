import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { assertCompleteLibrary } from '../src/library/library-check.js';
import { buildC, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

/** Zeroes e_shoff, e_shnum and e_shstrndx: a library without section headers, which dlopen accepts. */
function withoutSectionHeaders(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  out.writeBigUInt64LE(0n, 0x28);
  out.writeUInt16LE(0, 0x3c);
  out.writeUInt16LE(0, 0x3e);
  return out;
}

test('a complete library without section headers is accepted and served', async () => {
  const lib = await buildC(tickSource(5));
  const stripped = withoutSectionHeaders(await readFile(lib));
  assert.doesNotThrow(() => assertCompleteLibrary(stripped, lib));
  await writeFile(lib, stripped);
  const host = await createIsolatedHost({ library: lib, functions: { do_tick: 'int32_t do_tick(int32_t)' } });
  try {
    assert.equal(await host.call('do_tick', 1), 6);
  } finally {
    await host.close();
  }
});

test('a library cut inside its section header table is incomplete', async () => {
  const bytes = await readFile(await buildC(tickSource(5)));
  const cut = bytes.subarray(0, bytes.length - 10);
  assert.throws(() => assertCompleteLibrary(cut, 'libcut.so'), (err: unknown) =>
    err instanceof IsoswapError && err.code === 'ERR_NOT_A_LIBRARY' && /section headers/.test(err.message) && err.message.includes('libcut.so'));
});

test('garbage is named as not ELF, without echoing its bytes', () => {
  assert.throws(() => assertCompleteLibrary(Buffer.from('\u0001\u0002garbage bytes here'), 'junk.so'), (err: unknown) =>
    err instanceof IsoswapError && err.message === 'junk.so is not a loadable shared library: it is not an ELF file');
});

test('an executable is not a shared library', async () => {
  const lib = await buildC('int main(void) { return 0; }\n', undefined, ['-no-pie']);
  // gcc -shared with -no-pie still makes ET_DYN; patch e_type to ET_EXEC to model an executable
  const bytes = Buffer.from(await readFile(lib));
  bytes.writeUInt16LE(2, 0x10);
  assert.throws(() => assertCompleteLibrary(bytes, lib), /ELF type is 'exec'/);
});
