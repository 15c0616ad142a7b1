// Process isolation under Windows Node (run by the Windows lane, npm run test:windows): a
// child per version, crashes reported with Windows' exit status, hangs killed, callSync
// beyond the ring over named pipes, children that end with a host that dies.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createIsolatedHost } from '../../src/index.js';
import { hostFiles, install, rejectsWith, removeDirs, running, tempDir } from './windows-helpers.js';

const FUNCTIONS = {
  do_tick: 'int32_t do_tick(int32_t)', version: 'int32_t version(void)', crash_null: 'int32_t crash_null(int32_t)',
  do_abort: 'int32_t do_abort(void)', overflow: 'int32_t overflow(void)', hang: 'int32_t hang(void)',
} as const;
const STATUS_ACCESS_VIOLATION = 0xc0000005;
/** Bounds every wait for another process. */
const WAIT_MS = 30_000;

/** Polls `done` every 50 ms, failing after WAIT_MS with `what`. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A process-isolated host serving safe.dll as version 1 and crash.dll as version 2. */
async function crashingHost(options: { callTimeoutMs?: number } = {}) {
  const dir = tempDir();
  const library = install('safe.dll', join(dir, 'game.dll'));
  const host = await createIsolatedHost({ library, functions: FUNCTIONS, isolation: 'process', ...options });
  install('crash.dll', library);
  await host.reload();
  assert.equal(await host.call('version'), 2);
  return { host, dir };
}

describe('process isolation on Windows', () => {
  after(removeDirs);

  test('a NULL dereference rejects the call with ERR_VERSION_CRASHED (0xC0000005), and the host serves again after rollback', async () => {
    const { host, dir } = await crashingHost();
    try {
      const err = await rejectsWith(host.call('crash_null', 1), 'ERR_VERSION_CRASHED');
      assert.equal((err.details.exitCode as number) >>> 0, STATUS_ACCESS_VIOLATION, err.message);
      assert.equal(err.details.status, 'STATUS_ACCESS_VIOLATION');
      assert.match(err.message, /0xc0000005/);
      await host.rollback();
      assert.equal(await host.call('version'), 1);
      assert.equal(await host.call('do_tick', 1), 2);
    } finally {
      await host.close();
    }
    assert.deepEqual(hostFiles(dir), []);
  });

  test('abort() and a stack overflow are reported with their raw exit status; the build is restarted', async () => {
    const { host } = await crashingHost();
    try {
      const aborted = await rejectsWith(host.call('do_abort'), 'ERR_VERSION_CRASHED');
      assert.equal(aborted.details.exitCode, 3, aborted.message); // the C runtime's abort()
      assert.equal(aborted.details.status, 'abort()');
      assert.equal(await host.call('do_tick', 1), 3, 'the crashed build was started again');
      const overflow = await rejectsWith(host.call('overflow'), 'ERR_VERSION_CRASHED');
      assert.equal(typeof overflow.details.exitCode, 'number', overflow.message); // 0xC00000FD on Windows, 0 under Wine 8
      assert.equal(await host.call('version'), 2);
    } finally {
      await host.close();
    }
  });

  test('a call that hangs is killed at callTimeoutMs, and the host serves on', async () => {
    const { host } = await crashingHost({ callTimeoutMs: 3000 });
    try {
      await rejectsWith(host.call('hang'), 'ERR_CALL_TIMEOUT');
      assert.equal(await host.call('do_tick', 1), 3);
    } finally {
      await host.close();
    }
  });

  test('a host that dies takes its version processes with it, even one stuck in a call (libuv puts children in a kill-on-close job)', async () => {
    const dir = tempDir();
    const library = install('crash.dll', join(dir, 'game.dll'));
    const started = join(dir, 'started');
    const script = join(dir, 'host.mjs');
    const handle = new URL('../../src/runtime/process/child-process-handle.js', import.meta.url).href;
    writeFileSync(script, `import { ChildProcessHandle } from ${JSON.stringify(handle)};
const child = new ChildProcessHandle();
const functions = { hang_after: 'int32_t hang_after(const char *)' };
await child.request((r) => r.load({ library: ${JSON.stringify(library)}, copy: ${JSON.stringify(library)}, functions }));
void child.request((r) => r.call('hang_after', [${JSON.stringify(started)}])).catch(() => {});
console.log(child.pid);
setInterval(() => {}, 1 << 30);
`);
    const host = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = await once(host.stdout.setEncoding('utf8'), 'data', { signal: AbortSignal.timeout(60_000) }) as [string];
    const pid = Number(line.trim());
    await until(() => existsSync(started), 'the call never started');
    assert.ok(running(pid), 'the version process runs its call');
    host.kill(); // TerminateProcess: nothing of the host runs; its child is stuck in native code
    await once(host, 'exit');
    await until(() => !running(pid), 'the version process outlived its host');
  });

  test('callSync of a function the ring cannot carry (nine arguments) goes over the named blocking pipes', async () => {
    const dir = tempDir();
    const library = install('wide.dll', join(dir, 'wide.dll'));
    const host = await createIsolatedHost({ library, functions: { sum9: 'int32_t sum9(int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t)' }, isolation: 'process' });
    try {
      for (let i = 0; i < 20; i++) assert.equal(host.callSync('sum9', i, 2, 3, 4, 5, 6, 7, 8, 9), 44 + i);
      assert.equal(await host.call('sum9', 1, 2, 3, 4, 5, 6, 7, 8, 9), 45);
    } finally {
      await host.close();
    }
  });
});
