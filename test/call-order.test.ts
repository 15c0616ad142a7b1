// Calls run in the order they are made, whichever path each takes: a call that can go on the
// shared-memory ring does not overtake an earlier one still on its way on the message path.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type Isolation } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

// `set_from` takes a Buffer for its `const char *` (the ring carries strings only: the message
// path); `get` and `crash` take and give numbers (the ring).
const FUNCTIONS = {
  set_from: 'int32_t set_from(const char *s)',
  get: 'int32_t get(void)',
  crash: 'int32_t crash(int32_t x)',
} as const;

const SOURCE = `#include <stdint.h>
static int32_t value;
int32_t set_from(const char *s) { value = (unsigned char)s[0]; return value; }
int32_t get(void) { return value; }
int32_t crash(int32_t x) { volatile int *volatile p = 0; *p = x; return 0; }
`;

const bytes = (text: string): string => Buffer.from(`${text}\0`) as unknown as string;

for (const isolation of ['thread', 'process'] as Isolation[]) {
  test(`${isolation} isolation: a ring call made after a message-path call in the same turn sees what it did`, async (t) => {
    const host = await createIsolatedHost({ library: await buildC(SOURCE), functions: FUNCTIONS, isolation });
    t.after(() => host.close());
    for (let round = 0; round < 50; round++) {
      const letter = String.fromCharCode(97 + (round % 26));
      const [set, got] = await Promise.all([host.call('set_from', bytes(letter)), host.call('get')]);
      assert.equal(set, letter.charCodeAt(0));
      assert.equal(got, letter.charCodeAt(0), `round ${round}: get ran after set_from`);
    }
  });
}

test('process isolation: message-path calls made before a ring call that crashes the child run and resolve', async (t) => {
  const host = await createIsolatedHost({ library: await buildC(SOURCE), functions: FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  host.on('error', () => {}); // the crash is reported here too
  const made = ['a', 'b', 'c', 'd'].map((c) => host.call('set_from', bytes(c)));
  const fatal = host.call('crash', 1);
  const [fatalResult, ...results] = await Promise.allSettled([fatal, ...made]);
  assert.deepEqual(results, ['a', 'b', 'c', 'd'].map((c) => ({ status: 'fulfilled', value: c.charCodeAt(0) })), 'each ran before the crash');
  assert.equal(fatalResult.status, 'rejected');
  assert.ok(fatalResult.reason instanceof IsoswapError && fatalResult.reason.code === 'ERR_VERSION_CRASHED');
});
