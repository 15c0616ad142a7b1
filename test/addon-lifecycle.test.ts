// An addon that segfaults in process isolation takes its child down, never the host: the
// call rejects, the build restarts, the state block survives. And a program that serves an
// addon and closes it exits by itself with status 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createAddonHost, IsoswapError, type SwapEvent } from '../src/index.js';
import { buildAddon, type TestAddon } from './helpers/addon.js';
import { removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

test('process isolation: a segfaulting addon function rejects with ERR_VERSION_CRASHED; the host restarts the build and serves on', async (t) => {
  const addon = await createAddonHost<TestAddon>({ addon: await buildAddon(1), isolation: 'process', state: { bytes: 64 } });
  t.after(() => addon.close());
  const words = new Uint32Array(addon.state!.buffer, addon.state!.byteOffset, 3);
  const errors: IsoswapError[] = [];
  addon.on('error', (err) => errors.push(err));
  assert.equal(await addon.exports.tick(1), 2);
  // events.once would reject on the 'error' the crash emits
  const restarted = new Promise<SwapEvent>((resolve) => addon.once('swap', resolve));

  const [crash, queued] = await Promise.allSettled([addon.exports.crash(), addon.exports.tick(2)]);
  for (const r of [crash, queued]) {
    assert.equal(r?.status, 'rejected');
    const err = (r).reason as unknown;
    assert.ok(err instanceof IsoswapError && err.code === 'ERR_VERSION_CRASHED', String(err));
    assert.equal(err.details['signal'], 'SIGSEGV');
  }
  const swap = await restarted;
  assert.equal(swap.reason, 'restart');
  assert.equal(await addon.exports.tick(3), 4, 'the restarted build serves');
  assert.equal(words[0], 2, 'the state block outlived the crashed child: tick(1) and tick(3) counted');
  assert.deepEqual(errors.map((e) => e.code), ['ERR_VERSION_CRASHED'], errors.map((e) => e.message).join('; '));
});

test('a program that serves an addon, swaps it and closes it exits by itself with status 0', async () => {
  const addon = await buildAddon(1);
  const rebuild = await buildAddon(2);
  for (const isolation of ['thread', 'process']) {
    await buildAddon(1, addon); // the run before saved the rebuild over it
    const child = spawn(process.execPath, [join(FIXTURES, 'addon-create-close.js'), addon, rebuild, isolation], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000); // the bound: a program that does not end is killed
    const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    assert.equal(signal, null, `${isolation}: killed by ${signal}; stderr: ${stderr}`);
    assert.equal(code, 0, `${isolation}: ${stderr}`);
    assert.deepEqual(JSON.parse(stdout.trim()), { before: 2, after: 3 });
  }
});
