import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createIsolatedHost } from '../src/index.js';
import { buildC, holdingSource, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

test('drainTimeoutMs: 0 means what its refusal text says, no limit: a call in flight on a retiring version finishes on it', async () => {
  await assert.rejects(createIsolatedHost({ library: '/nope.so', functions: {}, drainTimeoutMs: -1 }),
    (err: { code?: string; message: string }) => err.code === 'ERR_INVALID_OPTIONS' && err.message.includes('0: no limit'));
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  const started = join(dir, 'started');
  const go = join(dir, 'go');
  await buildC(holdingSource(1), library);
  const functions = { hold: 'int32_t hold(const char *, const char *)', version: 'int32_t version(void)' };
  const host = await createIsolatedHost({ library, functions, drainTimeoutMs: 0 });
  try {
    const held = host.call('hold', started, go);
    while (!existsSync(started)) await nextTurn(); // the rendezvous: the call runs on version 1
    await buildC(holdingSource(2), library);
    const retired = once(host, 'retired');
    assert.equal((await host.reload()).id, 2);
    assert.equal(await host.call('version'), 2);
    await writeFile(go, '');
    assert.equal(await held, 1, 'the call in flight finished on version 1, not rejected');
    assert.equal((await retired)[0].id, 1);
  } finally {
    await writeFile(go, '');
    await host.close();
  }
});
