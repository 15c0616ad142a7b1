// Issue 15, rows "a library thread still running at close()" and "pthread_exit inside a
// call" (thread isolation), each in a child process: today's failure is a dead process.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';
import { inChild, THREADS_SOURCE } from './helpers/harden-fixtures.js';

after(removeTempDirs);

test('a thread the library started still runs at close(): ERR_GUEST_THREADS, its code stays mapped, the process lives', async () => {
  const dir = await makeTempDir();
  const library = await buildC(THREADS_SOURCE, join(dir, 'libthreads.so'), ['-pthread']);
  const go = join(dir, 'go');
  // The guest thread runs until `go` exists; the child closes the host while it runs,
  // then the thread is let go by this test once the child has reported.
  const child = inChild('guests', { library, go });
  const { result, status, signal, stderr } = await child.finally(() => writeFile(go, ''));
  assert.equal(signal, null, `no SIGSEGV: ${stderr}`);
  assert.equal(status, 0, stderr);
  assert.equal(result.call, 1);
  assert.deepEqual(result.errors, ['ERR_GUEST_THREADS']);
  assert.equal(result.closed, true);
});

test('pthread_exit inside a call: reported as ERR_THREAD_EXITED, close() settles', async () => {
  const library = await buildC(THREADS_SOURCE, join(await makeTempDir(), 'libthreads.so'), ['-pthread']);
  const { result, signal, stderr } = await inChild('exit', { library, name: 'isw-v1' });
  assert.ok(result !== null, `the child reported: ${stderr}`);
  assert.ok(signal === null || signal === 'SIGABRT', `the child exits by itself (documented: SIGABRT at exit), not ${signal}`);
  assert.equal(result.closed, true, 'close() settled');
  assert.ok(result.errors.includes('ERR_THREAD_EXITED'), `errors: ${result.errors.join(', ')}`);
  assert.equal(result.errors.includes('ERR_THREAD_STUCK'), false, 'not reported as a stuck thread');
  // The one exception to "exits by itself": Node aborts at exit over the worker whose
  // thread vanished (docs/deadlines.md); the report above came before.
});
