// A host that is SIGKILLed cannot close(): its children must still go, also one stuck in
// a native call (no JavaScript runs there to notice the closed channel).
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ACT, ACT_FUNCTIONS, actSource, alive, pausedChildren } from './helpers/act-fixture.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

test('children of a host that is SIGKILLed die with it, even while stuck in native code', { timeout: 20_000 }, async (t) => {
  const dir = await makeTempDir();
  const library = await buildC(actSource(1));
  const script = join(dir, 'host.mjs');
  await writeFile(script, `
import { createIsolatedHost } from ${JSON.stringify(INDEX)};
const host = await createIsolatedHost({ library: ${JSON.stringify(library)}, functions: ${JSON.stringify(ACT_FUNCTIONS)}, isolation: 'process' });
host.call('act', ${ACT.HANG}).catch(() => {});
await host.call('twice', 1); // queued behind the hang: never answered; only to be sure the hang was sent
`);
  const hostProcess = fork(script, [], { stdio: 'ignore', execArgv: [] });
  t.after(() => hostProcess.kill('SIGKILL'));
  // Until the host's child sits in pause() inside act(HANG): stuck in native code.
  let stuck: number | undefined;
  while ((stuck = pausedChildren(hostProcess.pid).at(0)) === undefined) await sleep(20);
  hostProcess.kill('SIGKILL');
  await once(hostProcess, 'exit');
  while (alive(stuck)) await sleep(10); // the test's timeout fails it if the child stays
  assert.ok(!alive(stuck));
});
