import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileStamp, settleFile } from '../../src/watch/settle.js';

const dir = mkdtempSync(join(tmpdir(), 'isoswap-settle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a missing file settles as missing, and has no stamp', async () => {
  const file = join(dir, 'missing.so');
  assert.equal(await fileStamp(file), null);
  assert.deepEqual(await settleFile(file, () => false), { kind: 'missing' });
});

test('a file that is not a library and stops changing settles as broken, with ERR_NOT_A_LIBRARY', async () => {
  const file = join(dir, 'garbage.so');
  writeFileSync(file, 'not an ELF file');
  const settled = await settleFile(file, () => false);
  assert.equal(settled.kind, 'broken');
  assert.equal(settled.kind === 'broken' && settled.error.code, 'ERR_NOT_A_LIBRARY');
});

test('a cancelled wait settles as cancelled', async () => {
  const file = join(dir, 'cancelled.so');
  writeFileSync(file, 'x');
  assert.deepEqual(await settleFile(file, () => true), { kind: 'cancelled' });
});

test('the stamp changes when the file is replaced by one of the same size', async () => {
  const file = join(dir, 'stamp.so');
  writeFileSync(file, 'aaaa');
  const before = await fileStamp(file);
  writeFileSync(join(dir, 'next'), 'bbbb');
  const { renameSync } = await import('node:fs');
  renameSync(join(dir, 'next'), file);
  assert.notEqual(await fileStamp(file), before);
});
