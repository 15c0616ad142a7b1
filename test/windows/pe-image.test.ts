// The PE reader behind the completeness check and the isoswap_state section, on the
// lane's mingw DLLs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { assertCompletePe, findPeSection, readPe } from '../../src/platform/pe-image.js';
import { fixturePath } from './dll-fixtures.js';

describe('PE images', () => {
  test('mingw keeps the long section name in the string table (/4); strip cuts it to 8 bytes', () => {
    const full = readPe(readFileSync(fixturePath('state2.dll')))!;
    const stripped = readPe(readFileSync(fixturePath('state2stripped.dll')))!;
    assert.ok(full.sections.some((s) => s.name === 'isoswap_state'), full.sections.map((s) => s.name).join(' '));
    assert.ok(stripped.sections.some((s) => s.name === 'isoswap_'), stripped.sections.map((s) => s.name).join(' '));
    assert.equal(stripped.symbolsEnd, 0);
    const section = findPeSection(readFileSync(fixturePath('state2stripped.dll')), 'isoswap_state');
    assert.deepEqual(section, findPeSection(readFileSync(fixturePath('state2.dll')), 'isoswap_state'));
    assert.equal(section?.size, 8, 'two int32_t');
  });

  test('a whole DLL passes; anything else is ERR_NOT_A_LIBRARY with the reason', () => {
    const dll = readFileSync(fixturePath('tick1.dll'));
    assertCompletePe(dll, 'tick1.dll');
    assert.equal(findPeSection(dll, 'isoswap_state'), null);
    const refused = (bytes: Uint8Array, why: RegExp): void => {
      assert.throws(() => assertCompletePe(bytes, 'x.dll'), (err: Error & { code?: string }) => err.code === 'ERR_NOT_A_LIBRARY' && why.test(err.message));
    };
    refused(new Uint8Array(0), /empty/);
    refused(Buffer.from('MZ not really'), /not a PE image/);
    refused(dll.subarray(0, 0x100), /not a PE image|headers/);
    refused(dll.subarray(0, dll.length - 1), /incomplete/);
    refused(readFileSync(fixturePath('notadll.exe')), /not a DLL/);
  });
});
