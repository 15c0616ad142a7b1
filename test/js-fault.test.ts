// A JavaScript fault in a thread-mode worker (an uncaught exception: the thread exits)
// is a crash of that version, not of the host: ERR_VERSION_CRASHED, then a restart.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type SwapEvent } from '../src/index.js';
import { ACT, ACT_FUNCTIONS, actSource } from './helpers/act-fixture.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

test('a worker thread that dies of a JavaScript exception rejects its calls with ERR_VERSION_CRASHED; the host restarts the build and serves on', async (t) => {
  // process 'worker' hands over every Worker this process starts: the way in to fault one.
  const workers: Worker[] = [];
  const onWorker = (w: Worker): void => { workers.push(w); };
  process.on('worker', onWorker);
  t.after(() => process.off('worker', onWorker));

  const dir = await makeTempDir();
  const host: IsolatedHost<typeof ACT_FUNCTIONS> = await createIsolatedHost({ library: await buildC(actSource(4)), functions: ACT_FUNCTIONS });
  t.after(() => host.close());
  const errors: IsoswapError[] = [];
  host.on('error', (e) => errors.push(e));
  const restarted = new Promise<SwapEvent>((resolve) => host.once('swap', resolve));
  // The first thread started serves version 1 (threads started later are warm standbys).
  const serving = workers[0];
  assert.ok(serving !== undefined, 'the host started a worker');

  // A call holds the thread in native code; meanwhile a message that comlink's listener
  // chokes on (argumentList must be an array: it throws outside its try) and one more
  // call are queued. The first call completes, then the thread throws and exits, and the
  // call queued behind the fault is never run. (Calls the shared-memory ring carries, a
  // string argument included, do not queue behind messages: these pass their path as a
  // Buffer, which koffi takes for a `const char *` and the ring does not.)
  const gate = join(dir, 'gate');
  const viaMessage = (path: string): string => Buffer.from(`${path}\0`) as unknown as string;
  const running = host.call('wait_file', viaMessage(gate));
  serving.postMessage({ id: 'fault', type: 'APPLY', path: ['call'], argumentList: 42 });
  const behind = host.call('wait_file', viaMessage('/')); // behind the fault
  await writeFile(gate, '');
  assert.equal(await running, 4);
  await assert.rejects(behind, (err: unknown) => {
    assert.ok(err instanceof IsoswapError, String(err));
    assert.equal(err.code, 'ERR_VERSION_CRASHED');
    assert.match(err.message, /exited with code 1/);
    return true;
  });

  const swap = await restarted;
  assert.equal(swap.reason, 'restart');
  assert.equal(await host.call('act', ACT.RETURN), 4);
  assert.deepEqual(errors.map((e) => e.code), ['ERR_VERSION_CRASHED']);
});
