// host.callSync in isolation: 'process': the blocking call goes over the child's call ring
// (src/transport/process-ring.ts), or a pair of pipes per child for what the ring does not
// carry (src/transport/sync-pipe-call.ts), not IPC, and behaves as `call` does: same
// results, typed errors, crash → restart, callTimeoutMs → kill and replace.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type SwapEvent } from '../src/index.js';
import { alive, childPids, pausedChildren } from './helpers/act-fixture.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const FUNCTIONS = {
  act: 'int32_t act(int32_t what)',
  half: 'double half(double x)',
  twice: 'int64_t twice(int64_t x)',
  greet: 'const char *greet(const char *name)',
} as const;
type Host = IsolatedHost<typeof FUNCTIONS>;

/** Build `k`: act(0) returns k, act(1) segfaults, act(2) hangs for ever. */
const source = (k: number): string => `#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
int32_t act(int32_t what) {
  if (what == 1) { volatile int *volatile p = 0; *p = 1; }
  if (what == 2) for (;;) pause();
  return ${k};
}
double half(double x) { return x / 2; }
int64_t twice(int64_t x) { return x * 2; }
const char *greet(const char *name) { static char out[64]; snprintf(out, sizeof out, "hello %s from ${k}", name); return out; }
`;

async function start(t: TestContext, k: number, callTimeoutMs = 0): Promise<{ host: Host; library: string }> {
  const library = await buildC(source(k), join(await makeTempDir(), 'libsync.so'));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', callTimeoutMs });
  t.after(() => host.close());
  return { host, library };
}

const coded = (code: string, fn?: string) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, `expected an IsoswapError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (fn !== undefined) assert.equal(err.details['function'], fn, err.message);
  return true;
};

const nextSwap = (host: Host): Promise<SwapEvent> => new Promise((resolve) => host.once('swap', resolve));
const openFds = (): number => readdirSync('/proc/self/fd').length;
const ringsMapped = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('isoswap-ring')).length;
/** This process's files in /dev/shm (other programs, other test files, come and go). */
const shmFiles = (): string[] => (existsSync('/dev/shm') ? readdirSync('/dev/shm').filter((f) => f.includes(`-${process.pid}-`)).sort() : []);

test('callSync returns what call returns: int, double, bigint, string', async (t) => {
  const { host } = await start(t, 7);
  const cases: Array<[keyof typeof FUNCTIONS, unknown[]]> = [['act', [0]], ['half', [5]], ['twice', [21n]], ['greet', ['ada']]];
  for (const [name, args] of cases) {
    assert.deepEqual(host.callSync(name, ...(args as [never])), await host.call(name, ...(args as [never])), name);
  }
  assert.equal(host.callSync('half', 5), 2.5);
  assert.equal(host.callSync('twice', 2n ** 60n), 2n ** 61n); // past 2^53: koffi gives a bigint
  assert.equal(host.callSync('greet', 'ada'), 'hello ada from 7');
});

test('callSync errors are typed: an unknown function, bad arguments (named), and the pipe keeps serving after them', async (t) => {
  const { host } = await start(t, 7);
  // @ts-expect-error an undeclared name does not compile either
  assert.throws(() => host.callSync('nope'), coded('ERR_UNKNOWN_FUNCTION'));
  // @ts-expect-error a string for an int64_t: the types refuse it, and so does the host
  assert.throws(() => host.callSync('twice', 'not a number'), coded('ERR_BAD_ARGUMENTS', 'twice'));
  // @ts-expect-error too few arguments
  assert.throws(() => host.callSync('act'), coded('ERR_BAD_ARGUMENTS', 'act'));
  assert.equal(host.callSync('act', 0), 7);
});

test('a segfault during callSync throws ERR_VERSION_CRASHED with the signal; the host restarts the build and serves call and callSync', async (t) => {
  const { host } = await start(t, 7);
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  const first = host.current;
  const restarted = nextSwap(host);
  assert.throws(() => host.callSync('act', 1), (err: unknown) => coded('ERR_VERSION_CRASHED')(err)
    && (err as IsoswapError).details['signal'] === 'SIGSEGV');
  // Known before callSync returned: the next call waits for the restart instead of failing.
  assert.equal(await host.call('act', 0), 7);
  const swap = await restarted;
  assert.equal(swap.reason, 'restart');
  assert.equal(swap.to.sourceId, first.id);
  assert.equal(host.callSync('act', 0), 7);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.details['signal'], 'SIGSEGV');
});

test('callTimeoutMs: a hanging callSync throws ERR_CALL_TIMEOUT, the child is killed and replaced', async (t) => {
  const { host } = await start(t, 3, 300);
  host.on('error', () => {});
  const replaced = nextSwap(host);
  assert.throws(() => host.callSync('act', 2), coded('ERR_CALL_TIMEOUT', 'act'));
  await replaced;
  assert.equal(await host.call('act', 0), 3);
  assert.equal(host.callSync('act', 0), 3);
  assert.deepEqual(pausedChildren(), [], 'the hung child was SIGKILLed, not left in pause()');
});

test('callSync after reload() runs on the new version', async (t) => {
  const { host, library } = await start(t, 1);
  assert.equal(host.callSync('act', 0), 1);
  await buildC(source(2), library);
  await host.reload();
  assert.equal(host.callSync('act', 0), 2);
  assert.equal(host.callSync('greet', 'bob'), 'hello bob from 2');
});

test('20 swaps leak no fd; close leaves no child, call ring (memfd mapping) or /dev/shm file', async () => {
  const fdsBefore = openFds();
  const shmBefore = shmFiles();
  const library = await buildC(source(0), join(await makeTempDir(), 'libsync.so'));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', state: { bytes: 64 } });
  try {
    assert.ok(ringsMapped() >= 1, 'the host maps its children\'s call rings');
    for (let k = 1; k <= 20; k++) {
      await buildC(source(k), library);
      await host.reload();
      assert.equal(host.callSync('act', 0), k);
      assert.equal(await host.call('act', 0), k);
      assert.equal(host.callSync('greet', 'x'), `hello x from ${k}`);
    }
  } finally {
    await host.close();
  }
  assert.equal(openFds(), fdsBefore, 'every pipe and memfd of every child is closed');
  assert.equal(ringsMapped(), 0, 'every ring is unmapped');
  assert.deepEqual(shmFiles(), shmBefore);
  assert.deepEqual(childPids().filter(alive), []);
});
