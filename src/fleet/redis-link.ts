import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { IsoswapError } from '../errors.js';
import { PendingReplies } from './pending-replies.js';
import type { CanaryWave, CoordinatorEvents, CoordinatorLink, FleetReply, FleetRequest, MemberLink, MemberReport } from './protocol.js';

/**
 * The fleet protocol over Redis (docs/fleet.md), for members on many machines. What the
 * fleet *is* lives in keys, so a member that reconnects reads it: `committed` (the sha256
 * every member serves), `build:<sha256>` (the bytes), `lease` (the one coordinator, with
 * an expiry it renews). Messages go over pub/sub: `coord` to the coordinator, `member:<id>`
 * to one member, `all` to every member. A member says it lives (and what it serves) every
 * BEAT_MS; silent for BEATS_LOST beats, it is gone.
 */
const BEAT_MS = 1000;
const BEATS_LOST = 3;

type CoordMessage =
  | { kind: 'reply'; member: string; rid: number; reply: FleetReply }
  | { kind: 'report'; member: string; report: MemberReport }
  | { kind: 'bye'; member: string };
type MemberMessage = { kind: 'request'; rid: number; request: FleetRequest } | { kind: 'coordinator' };

/** Renews the lease only while this coordinator holds it. */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/** Commits only while this coordinator holds the lease; the canary record goes with it. */
const COMMIT = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[2], ARGV[2]); redis.call('del', KEYS[3]); return 1 else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function transportError(message: string, cause?: unknown): IsoswapError {
  return new IsoswapError('ERR_FLEET_TRANSPORT', message, {}, cause === undefined ? undefined : { cause });
}

/** A connection (ioredis, an optional peer dependency: loaded only here). Commands fail at
 *  once while it is down (no offline queue): a fleet must see a lost Redis, not wait. */
async function connect(url: string): Promise<Redis> {
  let ioredis: { Redis: typeof Redis };
  try {
    ioredis = await import('ioredis');
  } catch (err) {
    throw transportError("a fleet over Redis needs the optional package `ioredis` (npm install ioredis)", err);
  }
  const redis = new ioredis.Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (n) => Math.min(n * 100, 1000) });
  redis.on('error', () => {}); // it reconnects; what fails meanwhile fails its command
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw transportError(`cannot reach Redis at ${url}: ${(err as Error).message}`, err);
  }
  return redis;
}

/** Both ends' two connections (a subscribed one takes no other command) and key names. */
abstract class RedisEnd {
  protected lost = false;

  protected constructor(protected readonly cmd: Redis, protected readonly sub: Redis, protected readonly prefix: string) {}

  protected static async connections(url: string): Promise<[Redis, Redis]> {
    const cmd = await connect(url);
    const sub = await connect(url).catch((err) => { cmd.disconnect(); throw err; });
    return [cmd, sub];
  }

  protected key(name: string): string {
    return `${this.prefix}${name}`;
  }

  protected publish(channel: string, message: unknown): Promise<number> {
    return this.cmd.publish(this.key(channel), JSON.stringify(message));
  }

  /** `onLost` when the link breaks, `onBack` when it is whole again. */
  protected watch(onLost: () => void, onBack: () => void): void {
    for (const connection of [this.cmd, this.sub]) {
      connection.on('close', () => { if (!this.lost) { this.lost = true; onLost(); } });
      connection.on('ready', () => { if (this.lost && this.cmd.status === 'ready' && this.sub.status === 'ready') { this.lost = false; onBack(); } });
    }
  }

  protected disconnect(): void {
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}

const prefixOf = (group: string): string => `isoswap:fleet:${group}:`;

/** The coordinator's end: holds the lease while it lives. */
export class RedisCoordinatorLink extends RedisEnd implements CoordinatorLink {
  readonly #pending = new PendingReplies<FleetReply>();
  readonly #seen = new Map<string, number>();
  readonly #id = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  #events: CoordinatorEvents | null = null;
  #timers: NodeJS.Timeout[] = [];
  #leaseLost = false;

  static async open(url: string, group: string, leaseMs: number): Promise<RedisCoordinatorLink> {
    const [cmd, sub] = await RedisEnd.connections(url);
    const link = new RedisCoordinatorLink(cmd, sub, prefixOf(group), leaseMs);
    try {
      if (await cmd.set(link.key('lease'), link.#id, 'PX', leaseMs, 'NX') !== 'OK') {
        throw new IsoswapError('ERR_FLEET_LEASE', `fleet ${group}: another coordinator holds the lease (${await cmd.get(link.key('lease'))})`, { group });
      }
    } catch (err) {
      link.disconnect();
      throw err instanceof IsoswapError ? err : transportError(`fleet ${group}: ${(err as Error).message}`, err);
    }
    return link;
  }

  private constructor(cmd: Redis, sub: Redis, prefix: string, private readonly leaseMs: number) {
    super(cmd, sub, prefix);
  }

  async start(events: CoordinatorEvents): Promise<void> {
    this.#events = events;
    this.sub.on('message', (_channel: string, text: string) => this.#onMessage(JSON.parse(text) as CoordMessage));
    await this.sub.subscribe(this.key('coord'));
    this.watch(() => this.#pending.failAll(transportError('the connection to Redis was lost')), () => {
      const now = Date.now(); // members could not be heard meanwhile
      for (const member of this.#seen.keys()) this.#seen.set(member, now);
    });
    const renew = setInterval(() => {
      this.cmd.eval(RENEW, 1, this.key('lease'), this.#id, this.leaseMs).then((held) => {
        if (held === 0) this.#loseLease();
      }, () => {}); // Redis away: the lease may lapse, which the commit's check sees
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    const sweep = setInterval(() => this.#sweep(), BEAT_MS);
    this.#timers = [renew, sweep];
    for (const timer of this.#timers) timer.unref();
    await this.publish('all', { kind: 'coordinator' } satisfies MemberMessage);
  }

  #onMessage(message: CoordMessage): void {
    this.#seen.set(message.member, Date.now());
    if (message.kind === 'reply') this.#pending.settle(message.rid, message.reply);
    else if (message.kind === 'report') this.#events?.report(message.member, message.report);
    else this.#gone(message.member, false, 'it closed its host');
  }

  #sweep(): void {
    if (this.lost) return;
    const now = Date.now();
    for (const [member, seen] of this.#seen) {
      if (now - seen > BEATS_LOST * BEAT_MS) this.#gone(member, true, `silent for ${BEATS_LOST} beats of ${BEAT_MS} ms`);
    }
  }

  #gone(member: string, crashed: boolean, why: string): void {
    this.#seen.delete(member);
    this.#pending.failMember(member, transportError(`fleet member ${member} is gone: ${why}`));
    this.#events?.leave(member, crashed, why);
  }

  #loseLease(): void {
    this.#leaseLost = true;
    this.#pending.failAll(new IsoswapError('ERR_FLEET_LEASE', 'this coordinator lost the fleet\'s lease'));
  }

  async request(member: string, request: FleetRequest, timeoutMs: number): Promise<FleetReply> {
    if (this.#leaseLost) throw new IsoswapError('ERR_FLEET_LEASE', 'this coordinator lost the fleet\'s lease');
    const { rid, reply } = this.#pending.open(member, timeoutMs, `${request.type} to fleet member ${member}`);
    const heard = await this.publish(`member:${member}`, { kind: 'request', rid, request } satisfies MemberMessage)
      .catch((err: Error) => { this.#pending.failMember(member, transportError(`sending ${request.type} to fleet member ${member}: ${err.message}`, err)); return 1; });
    if (heard === 0) this.#pending.failMember(member, transportError(`fleet member ${member} is not subscribed to the fleet`));
    return reply;
  }

  async store(sha256: string, bytes: Buffer): Promise<void> {
    await this.#command(`storing build ${sha256.slice(0, 12)}`, () => this.cmd.multi().set(this.key(`build:${sha256}`), bytes).sadd(this.key('builds'), sha256).exec());
  }

  async initial(sha256: string): Promise<string> {
    return this.#command('reading the committed build', async () => {
      await this.cmd.set(this.key('committed'), sha256, 'NX');
      return (await this.cmd.get(this.key('committed')))!;
    });
  }

  async commit(sha256: string): Promise<void> {
    const previous = await this.#command('reading the committed build', () => this.cmd.get(this.key('committed')));
    const done = await this.#command('committing', () => this.cmd.eval(COMMIT, 3, this.key('lease'), this.key('committed'), this.key('canary'), this.#id, sha256));
    if (done !== 1) {
      this.#loseLease();
      throw new IsoswapError('ERR_FLEET_LEASE', `this coordinator lost the fleet's lease before committing ${sha256.slice(0, 12)}…`);
    }
    // Kept: the committed build and the one before it (a rollback).
    const stored = await this.cmd.smembers(this.key('builds')).catch(() => []);
    const stale = stored.filter((sha) => sha !== sha256 && sha !== previous);
    if (stale.length > 0) await this.cmd.multi().del(...stale.map((sha) => this.key(`build:${sha}`))).srem(this.key('builds'), ...stale).exec().catch(() => {});
  }

  async canary(wave: CanaryWave | null): Promise<void> {
    const key = this.key('canary');
    await this.#command('recording the canary', async () => { await (wave === null ? this.cmd.del(key) : this.cmd.set(key, JSON.stringify(wave))); });
  }

  async #command<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw transportError(`${what} in Redis: ${(err as Error).message}`, err);
    }
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#pending.failAll(transportError('the fleet is closed'));
    await this.cmd.eval(RELEASE, 1, this.key('lease'), this.#id).catch(() => {});
    this.disconnect();
  }
}

/** A member's end. */
export class RedisMemberLink extends RedisEnd implements MemberLink {
  readonly #id = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  #onRequest: ((request: FleetRequest) => Promise<FleetReply>) | null = null;
  #coordinatorUp: (() => void) | null = null;
  #serving: MemberReport | null = null;
  #beat: NodeJS.Timeout | null = null;

  static async open(url: string, group: string): Promise<RedisMemberLink> {
    const [cmd, sub] = await RedisEnd.connections(url);
    const link = new RedisMemberLink(cmd, sub, prefixOf(group));
    sub.on('message', (_channel: string, text: string) => link.#onMessage(JSON.parse(text) as MemberMessage));
    await sub.subscribe(link.key(`member:${link.#id}`), link.key('all')).catch((err: Error) => { link.disconnect(); throw transportError(err.message, err); });
    return link;
  }

  #onMessage(message: MemberMessage): void {
    if (message.kind === 'coordinator') {
      this.#coordinatorUp?.();
      if (this.#serving !== null) this.report(this.#serving); // a new coordinator learns who serves what
      return;
    }
    const { rid, request } = message;
    void this.#onRequest?.(request).then((reply) => this.#send({ kind: 'reply', member: this.#id, rid, reply }));
  }

  async join(timeoutMs: number): Promise<{ id: string; committed: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = new Promise<void>((resolve) => { this.#coordinatorUp = resolve; });
      const committed = await this.cmd.get(this.key('committed')).catch((err: Error) => { throw transportError(`joining the fleet: ${err.message}`, err); });
      if (committed !== null) return { id: this.#id, committed };
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => { timer = setTimeout(() => resolve('expired'), Math.max(0, left)); });
      const outcome = await Promise.race([up, expired]);
      clearTimeout(timer);
      if (outcome === 'expired') throw new IsoswapError('ERR_FLEET_JOIN', `joining the fleet: no coordinator committed a build within ${timeoutMs} ms`, { timeoutMs });
    }
  }

  async fetch(sha256: string): Promise<Buffer> {
    const bytes = await this.cmd.getBuffer(this.key(`build:${sha256}`)).catch((err: Error) => { throw transportError(`fetching build ${sha256.slice(0, 12)}: ${err.message}`, err); });
    if (bytes === null) throw transportError(`Redis holds no build ${sha256.slice(0, 12)}…`);
    return bytes;
  }

  serve(handler: (request: FleetRequest) => Promise<FleetReply>, lost: () => void, rejoined: (committed: string) => void): void {
    this.#onRequest = handler;
    this.watch(lost, () => {
      void this.cmd.mget(this.key('committed'), this.key('canary')).then(([committed, canary]) => {
        if (this.#serving !== null) this.report(this.#serving);
        const wave = canary == null ? null : JSON.parse(canary) as CanaryWave;
        const target = wave !== null && wave.members.includes(this.#id) ? wave.sha256 : committed;
        if (target != null) rejoined(target);
      }, () => {});
    });
    this.#beat = setInterval(() => { if (this.#serving !== null) this.report(this.#serving); }, BEAT_MS);
    this.#beat.unref();
  }

  report(report: MemberReport): void {
    if (report.type === 'serving') this.#serving = report;
    this.#send({ kind: 'report', member: this.#id, report });
  }

  #send(message: CoordMessage): void {
    this.publish('coord', message).catch(() => {}); // Redis away: 'close' tells the member
  }

  async close(): Promise<void> {
    if (this.#beat !== null) clearInterval(this.#beat);
    await this.publish('coord', { kind: 'bye', member: this.#id } satisfies CoordMessage).catch(() => {});
    this.disconnect();
  }
}
