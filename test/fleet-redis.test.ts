// A fleet over a real Redis server (started here on a private port): its members are
// hosts in this process, each with its own connections, as on separate machines.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, test, type TestContext } from 'node:test';
import { createFleet, createIsolatedHost, IsoswapError, type Fleet, type IsolatedHost } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';
import { startRedis, type RedisServer } from './helpers/redis-server.js';

after(removeTempDirs);

const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };
const sha256Of = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');
const isCode = (code: string) => (err: unknown): boolean => err instanceof IsoswapError && err.code === code;

type Member = IsolatedHost<typeof FUNCTIONS>;

async function member(library: string, redis: string, isolation: 'thread' | 'process' = 'thread'): Promise<Member> {
  return createIsolatedHost({ library, functions: FUNCTIONS, isolation, fleet: { transport: { redis, group: 'game' }, joinTimeoutMs: 60_000 } });
}

/** A private Redis, a library (do_tick + 1), a fleet of `count` members on it; all ended after the test. */
async function redisFleet(t: TestContext, count: number, isolation: 'thread' | 'process' = 'thread'): Promise<{ redis: RedisServer; library: string; first: string; fleet: Fleet; hosts: Member[] }> {
  const redis = await startRedis();
  t.after(() => redis.kill());
  const library = join(await makeTempDir('isoswap-fleet-redis-'), 'libgame.so');
  await buildC(tickSource(1), library);
  const created = createFleet({ transport: { redis: redis.url, group: 'game' }, library, members: count, joinTimeoutMs: 60_000 });
  const hosts = await Promise.all(Array.from({ length: count }, () => member(library, redis.url, isolation)));
  t.after(() => Promise.all(hosts.map((h) => h.close())));
  const fleet = await created;
  t.after(() => fleet.close());
  return { redis, library, first: await sha256Of(library), fleet, hosts };
}

test('Redis stopped during prepare: the swap aborts and no member serves the new build', async (t) => {
  const { redis, library, first: old, fleet, hosts } = await redisFleet(t, 3);
  const hold = join(dirname(library), 'hold');
  assert.deepEqual(fleet.status().map((m) => m.sha256), [old, old, old]);

  await buildC(tickSource(4, `#include <unistd.h>\nint32_t isoswap_load(void *s, uint32_t b) { (void)s; (void)b; for (int i = 0; i < 120000 && access("${hold}", F_OK) != 0; i++) usleep(1000); return 0; }`), library);
  const fresh = await sha256Of(library);
  const swapping = fleet.swap();
  await once(fleet, 'prepare');
  await redis.kill();
  await writeFile(hold, ''); // the members' load hooks return now, with the fleet unreachable
  await assert.rejects(swapping, isCode('ERR_FLEET_ABORTED'));
  for (const host of hosts) {
    assert.equal(host.current.sha256, old);
    assert.ok(host.history.every((v) => v.sha256 !== fresh), 'the new build never served');
    assert.equal(await host.call('do_tick', 1), 2);
  }
});

test('a member restarted after a commit serves the committed build, fetched from Redis by its sha256', async (t) => {
  const { redis, library, fleet, hosts } = await redisFleet(t, 2);

  await buildC(tickSource(3), library);
  const committed = await sha256Of(library);
  const result = await fleet.swap();
  assert.equal(result.sha256, committed);
  for (const host of hosts) {
    assert.equal(host.current.sha256, committed);
    assert.equal(host.history.at(-1)?.sha256, committed);
    await assert.rejects(host.reload(), isCode('ERR_FLEET_MEMBER'));
  }

  // One member restarts while its disk holds another build: it serves the fleet's.
  const left = once(fleet, 'leave');
  await hosts[0]!.close();
  await left;
  await buildC(tickSource(7), library);
  const joined = once(fleet, 'join');
  const restarted = await member(library, redis.url);
  hosts[0] = restarted;
  assert.equal(restarted.current.sha256, committed);
  assert.equal(await restarted.call('do_tick', 1), 4);
  await joined;
  assert.deepEqual(fleet.status().map((m) => m.sha256), [committed, committed]);

  // A second coordinator is refused while this one holds the lease.
  await assert.rejects(createFleet({ transport: { redis: redis.url, group: 'game' }, library, members: 0 }), isCode('ERR_FLEET_LEASE'));
  // And the fleet rolls back as one.
  const back = await fleet.rollback();
  assert.notEqual(back.sha256, committed);
  for (const host of hosts) assert.equal(await host.call('do_tick', 1), 2);
});

test('a member whose build keeps crashing restarts that build and never rolls back alone; the fleet rolls it back', async (t) => {
  // Process isolation: a native crash ends the version's child, not this process.
  const { library, first, fleet, hosts } = await redisFleet(t, 1, 'process');
  const host = hosts[0]!;
  host.on('error', () => {}); // the crashes, reported
  const failures: string[] = [];
  fleet.on('failure', (f) => failures.push(f.type));

  await buildC('#include <stdint.h>\n#include <signal.h>\nint32_t do_tick(int32_t x) { if (x < 0) raise(SIGSEGV); return x + 3; }\n', library);
  const crashing = await sha256Of(library);
  await fleet.swap();
  assert.equal(host.current.sha256, crashing);
  const reasons: string[] = [];
  host.on('swap', (e) => reasons.push(e.reason));

  // Three crashes within the crash policy's window (3 in 10 s): restarted twice, then given
  // up on. A host alone would roll back to the first build; a member stays on the fleet's.
  for (let i = 0; i < 3; i++) await assert.rejects(host.call('do_tick', -1), isCode('ERR_VERSION_CRASHED'));
  await assert.rejects(host.call('do_tick', 1), isCode('ERR_VERSION_CRASHED')); // waits for the recovery, then finds it crashed
  assert.deepEqual(reasons, ['restart', 'restart']);
  assert.equal(host.current.sha256, crashing);
  assert.notEqual(host.current.status, 'serving');
  await assert.rejects(host.rollback(), isCode('ERR_FLEET_MEMBER'));
  const told = AbortSignal.timeout(30_000); // the reports travel through Redis
  while (failures.length < 3) await once(fleet, 'failure', { signal: told });
  assert.deepEqual(failures, ['crash', 'crash', 'crash'], 'the fleet is told of every crash, once');

  const back = await fleet.rollback();
  assert.equal(back.sha256, first);
  assert.equal(host.current.sha256, first);
  assert.equal(await host.call('do_tick', 1), 2);
  assert.deepEqual(reasons, ['restart', 'restart', 'fleet']);
});

test('a member that reconnects reads where the fleet is in Redis and catches up with the committed build', async (t) => {
  const { redis, library, first, fleet, hosts } = await redisFleet(t, 1);
  const host = hosts[0]!;
  await buildC(tickSource(3), library);
  await fleet.swap();
  assert.equal(await host.call('do_tick', 1), 4);

  // While the member is away, the fleet's record moves back to the first build (as a
  // commit the member missed would); every connection but this one is cut.
  const { Redis } = await import('ioredis');
  const admin = new Redis(redis.url);
  t.after(() => admin.disconnect());
  await admin.set('isoswap:fleet:game:committed', first);
  const swapped = once(host, 'swap');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  const [event] = await swapped as [{ reason: string; to: { sha256: string } }];
  assert.equal(event.reason, 'fleet');
  assert.equal(event.to.sha256, first);
  assert.equal(await host.call('do_tick', 1), 2);
});

test('a canary member that reconnects during its soak keeps serving the canary build', async (t) => {
  const { redis, library, first, fleet, hosts } = await redisFleet(t, 2);
  await buildC(tickSource(3), library);
  const fresh = await sha256Of(library);
  const served = hosts.map(() => [] as string[]);
  hosts.forEach((host, i) => host.on('swap', (e) => served[i]!.push(e.to.sha256 === fresh ? 'fresh' : e.to.sha256 === first ? 'first' : 'other')));
  const { Redis } = await import('ioredis');
  const admin = new Redis(redis.url);
  t.after(() => admin.disconnect());
  const clients = async (): Promise<number> => String(await admin.call('CLIENT', 'LIST')).trim().split('\n').length;
  const everyone = await clients();

  const swapping = fleet.swap({ waves: [1], soakMs: 6000 });
  await once(fleet, 'commit'); // the canary wave: one member cuts over, then soaks
  const cutOver = AbortSignal.timeout(60_000);
  while (!served.some((s) => s.length > 0)) await Promise.race([...hosts.map((h) => once(h, 'swap')), once(cutOver, 'abort')]);
  assert.ok(!cutOver.aborted, 'the canary cut over');
  const canary = served.findIndex((s) => s.length > 0);
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  const back = AbortSignal.timeout(30_000);
  while (await clients() < everyone && !back.aborted) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(!back.aborted, 'every connection came back');

  const result = await swapping;
  assert.equal(result.sha256, fresh);
  assert.deepEqual(served[canary], ['fresh'], 'the canary served the fresh build from its wave on, never the first again');
  assert.deepEqual(served[1 - canary], ['fresh'], 'the other member moved with the last wave');
  for (const host of hosts) assert.equal(await host.call('do_tick', 1), 4);
});

test('without the optional package ioredis, a Redis fleet and a Redis member are refused with ERR_FLEET_TRANSPORT naming it', async () => {
  const dir = await makeTempDir('isoswap-no-ioredis-');
  const library = join(dir, 'libgame.so');
  await buildC(tickSource(1), library);
  // A resolve hook that finds no ioredis, as in a project that never installed it.
  const hook = join(dir, 'hook.mjs');
  await writeFile(hook, "export async function resolve(s, c, next) { if (s === 'ioredis') throw Object.assign(new Error(\"Cannot find package 'ioredis'\"), { code: 'ERR_MODULE_NOT_FOUND' }); return next(s, c); }\n");
  const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hook).href)});`;
  const index = fileURLToPath(new URL('../src/index.js', import.meta.url));
  const script = `
    const { createFleet, createIsolatedHost } = await import(${JSON.stringify(pathToFileURL(index).href)});
    const codes = [];
    for (const start of [
      () => createFleet({ transport: { redis: 'redis://127.0.0.1:1', group: 'g' }, library: ${JSON.stringify(library)}, members: 1 }),
      () => createIsolatedHost({ library: ${JSON.stringify(library)}, functions: { do_tick: 'int32_t do_tick(int32_t)' }, fleet: { transport: { redis: 'redis://127.0.0.1:1', group: 'g' } } }),
    ]) {
      try { await start(); codes.push('served'); } catch (err) { codes.push(err.code + (err.message.includes('npm install ioredis') ? ':named' : '')); }
    }
    console.log(JSON.stringify(codes));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', register, '--input-type=module', '-e', script], { timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), ['ERR_FLEET_TRANSPORT:named', 'ERR_FLEET_TRANSPORT:named']);
});
