// The contract does not depend on the runtime: the same swap, drain, load-error, state and
// close tests, run over worker threads and over child processes.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type Isolation, type VersionInfo } from '../src/index.js';
import { ACT, ACT_FUNCTIONS, actSource, childPids, ticks, type ActOptions } from './helpers/act-fixture.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

type Host = IsolatedHost<typeof ACT_FUNCTIONS>;

const coded = (code: string) => (err: unknown): boolean => {
  assert.ok(err instanceof IsoswapError, String(err));
  assert.equal(err.code, code, err.message);
  return true;
};

for (const isolation of ['thread', 'process'] as const satisfies readonly Isolation[]) {
  describe(`isolation: '${isolation}'`, () => {
    async function start(t: TestContext, opts: { state?: boolean } = {}) {
      const dir = await makeTempDir();
      const library = await buildC(actSource(1), join(dir, 'libact.so'));
      const host: Host = await createIsolatedHost({ library, functions: ACT_FUNCTIONS, isolation, ...(opts.state ? { state: { bytes: 64 } } : {}) });
      t.after(() => host.close());
      const rebuild = (k: number, o?: ActOptions): Promise<string> => buildC(actSource(k, o), library);
      return { host, dir, library, rebuild };
    }

    test('reload() swaps: the new build serves, swap and retired fire, history keeps both', async (t) => {
      const { host, rebuild } = await start(t);
      const first = host.current;
      const events: string[] = [];
      const retired = new Promise<VersionInfo>((resolve) => host.once('retired', resolve));
      host.on('swap', ({ from, to, reason }) => events.push(`swap ${from.id}->${to.id} ${reason}`));
      await rebuild(2);
      const second = await host.reload();
      assert.equal(await host.call('act', ACT.RETURN), 2);
      assert.equal((await retired).id, first.id);
      assert.deepEqual(events, [`swap ${first.id}->${second.id} reload`]);
      assert.deepEqual(host.history.map((v) => [v.id, v.status]), [[first.id, 'retired'], [second.id, 'serving']]);
      assert.notEqual(second.copy, first.copy, 'each version loads its own copy');
    });

    test('a call in flight across a swap finishes on the old version (drain), calls after reload() go to the new one', async (t) => {
      const { host, dir, rebuild } = await start(t);
      const gate = join(dir, 'gate');
      const inflight = host.call('wait_file', gate); // blocks in version 1 until the gate exists
      await rebuild(2);
      await host.reload();
      assert.equal(await host.call('act', ACT.RETURN), 2);
      await writeFile(gate, '');
      assert.equal(await inflight, 1);
    });

    test('a build that cannot serve is a typed error; the current version serves on', async (t) => {
      const { host, library, rebuild } = await start(t);
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['ERR_NOT_A_LIBRARY', () => writeFile(library, 'not an ELF file')],
        ['ERR_SYMBOL_MISSING', () => rebuild(2, { withoutTick: true })],
        ['ERR_LOAD_HOOK', () => rebuild(3, { loadResult: 7 })],
      ];
      for (const [code, breakIt] of cases) {
        await breakIt();
        await assert.rejects(host.reload(), coded(code));
        assert.equal(host.current.id, 1);
        assert.equal(await host.call('act', ACT.RETURN), 1, `after ${code}`);
      }
      // @ts-expect-error an undeclared name does not compile either
      await assert.rejects(host.call('nope'), coded('ERR_UNKNOWN_FUNCTION'));
      assert.deepEqual(host.history.map((v) => v.id), [1]);
    });

    test('the state block carries on across a swap', async (t) => {
      const { host, rebuild } = await start(t, { state: true });
      for (let i = 1; i <= 3; i++) assert.equal(await host.call('tick'), i);
      await rebuild(2);
      await host.reload();
      assert.equal(await host.call('tick'), 4);
      assert.equal(ticks(host.state), 4);
      await host.close();
      assert.equal(ticks(host.state), 4, 'host.state stays readable after close');
      const mine = `isoswap-${process.pid}-`;
      assert.deepEqual(readdirSync('/dev/shm').filter((f) => f.startsWith(mine)), [], 'no shared-memory file is left');
    });

    test('close() lets calls in flight finish, then calls reject with ERR_HOST_CLOSED; nothing is left running', async (t) => {
      const { host, dir } = await start(t);
      const gate = join(dir, 'gate');
      const inflight = host.call('wait_file', gate);
      const closing = host.close();
      await assert.rejects(host.call('act', ACT.RETURN), coded('ERR_HOST_CLOSED'));
      await writeFile(gate, '');
      assert.equal(await inflight, 1);
      await closing;
      await host.close(); // idempotent
      await assert.rejects(host.reload(), coded('ERR_HOST_CLOSED'));
      assert.deepEqual(childPids(), []);
    });
  });
}
