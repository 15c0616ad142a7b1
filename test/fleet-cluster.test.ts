// A fleet of 4 node:cluster workers under load (each keeps calls in flight), coordinated by
// this process, the primary. One cluster for every case (each worker is a Node process
// with its own version thread: a few of them cost the shared cores dearly).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createFleet, IsoswapError, type Fleet } from '../src/index.js';
import { ask, closeWorkers, forkMember, liveWorkers, untilMembers } from './helpers/fleet-cluster.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

const MEMBERS = 4;
const REFUSER = { FLEET_REFUSE: '1' };
let library = '';
let hold = '';
let fleet: Fleet;

const sha256Of = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');
const isCode = (code: string) => (err: unknown): boolean => err instanceof IsoswapError && err.code === code;

/** Every worker's report: all on `sha256`, every call answered once by an allowed build. */
async function assertFleetOn(sha256: string, allowed: number[]): Promise<void> {
  const workers = liveWorkers();
  assert.equal(workers.length, MEMBERS);
  for (const report of await Promise.all(workers.map((w) => ask(w)))) {
    assert.equal(report.sha256, sha256, 'the member serves the fleet\'s build');
    assert.deepEqual(report.rejected, [], 'no call failed');
    assert.equal(report.answered, report.issued, 'every call issued was answered, once');
    for (const k of Object.keys(report.answeredBy)) assert.ok(allowed.includes(Number(k)), `build +${k} answered: only ${allowed.join(', ')} may`);
    assert.equal(report.reload, 'ERR_FLEET_MEMBER', 'a member does not reload on its own');
    for (const reason of report.reasons) assert.equal(reason, 'fleet');
  }
  assert.deepEqual(fleet.status().map((m) => m.sha256), Array(MEMBERS).fill(sha256));
}

before(async () => {
  const dir = await makeTempDir('isoswap-fleet-');
  library = join(dir, 'libgame.so');
  hold = join(dir, 'hold');
  await buildC(tickSource(1), library);
  const created = createFleet({ transport: 'cluster', library, members: MEMBERS, joinTimeoutMs: 120_000, prepareTimeoutMs: 120_000 });
  forkMember(library, REFUSER); // the member that refuses builds made to refuse
  for (let i = 1; i < MEMBERS; i++) forkMember(library);
  fleet = await created;
});

after(async () => {
  await fleet?.close();
  await closeWorkers();
  await removeTempDirs();
});

test('a fleet swap under load: every call answered exactly once, every worker on the new build', async () => {
  await assertFleetOn(await sha256Of(library), [1]);
  await buildC(tickSource(3), library);
  const result = await fleet.swap();
  const sha256 = await sha256Of(library);
  assert.equal(result.sha256, sha256);
  assert.equal(result.members.length, MEMBERS);
  assert.ok(result.skewMs >= 0);
  await assertFleetOn(sha256, [1, 3]);
});

test('one worker refuses the build at prepare: ERR_FLEET_ABORTED names it, every worker stays on the old build', async () => {
  const old = fleet.sha256;
  await buildC(tickSource(2, '#include <stdlib.h>\nint32_t isoswap_load(void *s, uint32_t b) { (void)s; (void)b; return getenv("FLEET_REFUSE") ? 9 : 0; }'), library);
  const error = await fleet.swap().then(() => null, (err: unknown) => err);
  assert.ok(isCode('ERR_FLEET_ABORTED')(error), String(error));
  const refusals = (error as IsoswapError).details['refusals'] as Array<{ member: string; code: string }>;
  assert.deepEqual(refusals.map((r) => r.code), ['ERR_LOAD_HOOK']);
  assert.equal(fleet.sha256, old);
  await assertFleetOn(old, [1, 3]);
});

test('a worker killed during prepare: the swap aborts, the others discard', async () => {
  const old = fleet.sha256;
  await buildC(tickSource(4, `#include <unistd.h>\nint32_t isoswap_load(void *s, uint32_t b) { (void)s; (void)b; for (int i = 0; i < 120000 && access("${hold}", F_OK) != 0; i++) usleep(1000); return 0; }`), library);
  const swapping = fleet.swap();
  const [{ members }] = await once(fleet, 'prepare') as [{ members: string[] }];
  const victim = liveWorkers().find((w) => String(w.id) === members.at(-1))!;
  const left = once(fleet, 'leave');
  victim.process.kill('SIGKILL');
  await left;
  await writeFile(hold, ''); // the others' load hooks return: their prepared builds are discarded
  await assert.rejects(swapping, (err: unknown) => isCode('ERR_FLEET_ABORTED')(err)
    && ((err as IsoswapError).details['refusals'] as Array<{ member: string }>).some((r) => r.member === String(victim.id)));
  forkMember(library); // its replacement joins on the committed build, not on the bytes at `library`
  await untilMembers(fleet, MEMBERS);
  await assertFleetOn(old, [1, 3]);
});

test('a canary whose new build crashes: the fleet rolls back, no worker is left on the bad build', async () => {
  const good = fleet.sha256;
  await buildC('#include <stdint.h>\n#include <signal.h>\nint32_t do_tick(int32_t x) { raise(SIGSEGV); return x; }\n', library);
  const bad = await sha256Of(library);
  const crashed: string[] = [];
  fleet.on('leave', (e) => { if (e.crashed) crashed.push(e.member); });
  const error = await fleet.swap({ waves: [1], soakMs: 120_000 }).then(() => null, (err: unknown) => err);
  assert.ok(isCode('ERR_FLEET_ROLLED_BACK')(error), String(error));
  const { canary, rates } = (error as IsoswapError).details as { canary: string[]; rates: { canary: number; rest: number } };
  assert.deepEqual(crashed, canary, 'the canary, and only it, served the bad build and died of it');
  assert.deepEqual(rates, { canary: 1, rest: 0 });
  assert.equal(fleet.sha256, good);
  assert.ok(fleet.status().every((m) => m.sha256 !== bad));
  forkMember(library); // the canary's process died with its build; the new one starts on the committed build
  await untilMembers(fleet, MEMBERS);
  await assertFleetOn(good, [1, 3]);
});
