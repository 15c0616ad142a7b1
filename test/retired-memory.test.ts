// A runtime that served and ended is garbage: nothing of it (its Worker or ChildProcess,
// channel, ports) waits for comlink's FinalizationRegistry, which holds the endpoint of
// every proxy it made until a cleanup task that runs only after a full GC.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ThreadWorkerHandle } from '../src/runtime/thread/thread-worker-handle.js';
import { ChildProcessHandle } from '../src/runtime/process/child-process-handle.js';
import type { RuntimeHandle } from '../src/runtime/runtime-handle.js';
import type { LibraryServiceApi, LoadRequest } from '../src/wire/protocol.js';
import { releasableEndpoint, type Endpoint, type Remote } from '../src/runtime/rpc.js';
import { buildC, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };

type Handle = RuntimeHandle & { remote: Remote<LibraryServiceApi> };

/**
 * Serves one version in a fresh handle over the message path (every request makes a comlink
 * proxy), ends it as a retiring version does, and returns weak references to the handle
 * and to the Worker or ChildProcess behind it; made in a function so that no strong
 * reference is left on this stack.
 */
async function serveAndStop(make: () => Handle, inner: (h: Handle) => object, request: LoadRequest): Promise<WeakRef<object>[]> {
  const handle = make();
  await handle.request((r) => r.load(request));
  assert.equal(await handle.request((r) => r.call('do_tick', [41])), 42);
  await handle.stop();
  return [new WeakRef(handle), new WeakRef(inner(handle))];
}

for (const [isolation, make, inner] of [
  ['thread', () => new ThreadWorkerHandle(), (h: Handle) => (h as ThreadWorkerHandle).worker],
  ['process', () => new ChildProcessHandle(), (h: Handle) => (h as ChildProcessHandle).child],
] as const) {
  test(`${isolation}: an ended runtime and its ${isolation === 'thread' ? 'Worker' : 'ChildProcess'} are garbage once it ended`, async () => {
    const library = await buildC(tickSource(1));
    const refs = await serveAndStop(make, inner, { library, copy: library, functions: FUNCTIONS });
    // Node lets go of an exited Worker or ChildProcess once its native handle is closed,
    // a turn or two after 'exit'; a WeakRef keeps its target for the turn that made it.
    for (let round = 0; round < 10 && refs.some((r) => r.deref() !== undefined); round++) {
      await turn();
      gc();
    }
    assert.deepEqual(refs.map((r) => r.deref() === undefined), [true, true], 'the handle and what it ran are garbage');
  });
}

test('a released endpoint no longer reaches what it wrapped, while comlink still holds it', async () => {
  const made = (): { endpoint: Endpoint; release: () => void; inner: WeakRef<Endpoint> } => {
    const inner: Endpoint = { postMessage() {}, addEventListener() {}, removeEventListener() {} };
    return { ...releasableEndpoint(inner), inner: new WeakRef(inner) };
  };
  const { endpoint, release, inner } = made();
  await turn();
  gc();
  assert.notEqual(inner.deref(), undefined, 'before release() the endpoint holds it');
  release();
  await turn();
  gc();
  assert.equal(inner.deref(), undefined, 'after release() it is garbage');
  endpoint.postMessage('dropped'); // a late RELEASE from comlink's cleanup goes nowhere
});
