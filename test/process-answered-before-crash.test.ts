// isolation: 'process': a call the child ran and answered over IPC resolves with its answer,
// also when the request right behind it in the same pipe read crashes the child. Node emits
// every message of one read before any microtask runs, and comlink posts its answer in one:
// the child must write each answer before it runs the next request.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type SwapEvent } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

// Every argument a Buffer for a `const char *` (koffi takes one, typed as a string here):
// the ring carries strings only, so each call takes the message path (comlink over IPC).
const FUNCTIONS = {
  wait_file: 'int32_t wait_file(const char *path)',
  first_byte: 'int32_t first_byte(const char *s)',
  crash: 'int32_t crash(const char *s)',
} as const;

const SOURCE = `#include <stdint.h>
#include <unistd.h>
int32_t wait_file(const char *path) { while (access(path, F_OK) != 0) usleep(1000); return 1; }
int32_t first_byte(const char *s) { return (unsigned char)s[0]; }
int32_t crash(const char *s) { volatile int *volatile p = 0; *p = s[0]; return 0; }
`;

const bytes = (text: string): string => Buffer.from(`${text}\0`) as unknown as string;
const NORMAL = ['a', 'b', 'c', 'd', 'e', 'f'];

test('the calls answered before the one that crashes the child resolve, though all came in one pipe read', async (t) => {
  const host = await createIsolatedHost({ library: await buildC(SOURCE), functions: FUNCTIONS, isolation: 'process' });
  t.after(() => host.close());
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  const go = join(await makeTempDir(), 'go');

  // The child holds in wait_file until `go` exists, while the calls behind it, sent in the
  // same turn, gather in its IPC pipe: once it returns, it reads them in one go.
  const held = host.call('wait_file', bytes(go));
  const normal = NORMAL.map((c) => host.call('first_byte', bytes(c)));
  const fatal = host.call('crash', bytes('x'));
  const settled = Promise.allSettled([held, ...normal, fatal]);
  await new Promise(setImmediate); // the requests are posted (after the host's own microtasks)
  await writeFile(go, '');

  const [first, ...rest] = await settled;
  const last = rest.pop()!;
  assert.deepEqual(first, { status: 'fulfilled', value: 1 });
  assert.deepEqual(rest, NORMAL.map((c) => ({ status: 'fulfilled', value: c.charCodeAt(0) })), 'each answered call resolves with its answer');
  assert.equal(last.status, 'rejected');
  assert.ok(last.reason instanceof IsoswapError && last.reason.code === 'ERR_VERSION_CRASHED', `expected ERR_VERSION_CRASHED, got ${String(last.reason)}`);
  assert.equal(last.reason.details['signal'], 'SIGSEGV');

  // The host recovers as from any crash: the same build restarted, serving on.
  const swap = await restarted;
  assert.equal(swap.reason, 'restart');
  assert.equal(await host.call('first_byte', bytes('z')), 'z'.charCodeAt(0));
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'ERR_VERSION_CRASHED');
});
