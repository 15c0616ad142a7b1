import { EventEmitter } from 'node:events';
import { IsoswapError } from '../errors.js';
import { readBuild } from './fleet-build.js';
import { FLEET_EVENTS, type FleetEventMap, type FleetMemberStatus, type FleetSwapResult, type MemberCutOver } from './fleet-events.js';
import { swapOptions, type FleetSwapOptions, type ResolvedFleetOptions } from './fleet-options.js';
import type { CoordinatorLink, FleetReply, FleetRequest, MemberReport, SmokeCall } from './protocol.js';
import { Soak } from './soak.js';

/** A refusal at prepare, as ERR_FLEET_ABORTED lists it. */
interface Refusal {
  member: string;
  code: string;
  message: string;
}

/**
 * The coordinator of a fleet: knows each member and what it serves, and swaps them all
 * (docs/fleet.md): every member prepares the build (loaded, checked, not serving); if one
 * refuses or is lost, every member discards it (ERR_FLEET_ABORTED: nobody moved); else the
 * build is recorded as committed and the members cut over, wave by wave, each wave but the
 * last soaked; a canary that fails its soak is swapped back (ERR_FLEET_ROLLED_BACK).
 * Made by {@link createFleet}.
 */
export class Fleet extends EventEmitter<FleetEventMap> {
  readonly #members = new Map<string, FleetMemberStatus>();
  #previous: string | null = null;
  #nextSwap = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #soak: Soak | null = null;
  #closed = false;
  #joined: (() => void) | null = null;

  /** @internal use {@link createFleet} */
  constructor(private readonly link: CoordinatorLink, private readonly opts: ResolvedFleetOptions, private committed: string) {
    super();
  }

  /** @internal starts listening; resolves once `opts.members` serve (ERR_FLEET_JOIN past joinTimeoutMs). */
  async start(): Promise<void> {
    const { members, joinTimeoutMs } = this.opts;
    const joined = new Promise<void>((resolve) => { this.#joined = resolve; });
    await this.link.start({ report: (member, report) => this.#report(member, report), leave: (member, crashed, why) => this.#leave(member, crashed, why) });
    this.#checkJoined();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => { timer = setTimeout(() => resolve('expired'), joinTimeoutMs); });
    const outcome = await Promise.race([joined, expired]);
    clearTimeout(timer);
    if (outcome === 'expired') {
      throw new IsoswapError('ERR_FLEET_JOIN', `only ${this.#members.size} of ${members} fleet members joined within ${joinTimeoutMs} ms (joinTimeoutMs)`, { joined: this.#members.size, members, timeoutMs: joinTimeoutMs });
    }
  }

  /** Each member: its id, the sha256 of the build it serves, its host's version id. */
  status(): FleetMemberStatus[] {
    return [...this.#members.values()].map((m) => ({ ...m }));
  }

  /** The sha256 every member serves once the fleet is settled (new members start on it). */
  get sha256(): string {
    return this.committed;
  }

  /**
   * Rolls out the bytes now at `library` to every member: all prepare, then all cut over
   * (wave by wave with `waves`). Rejects with ERR_FLEET_ABORTED (nobody moved) or
   * ERR_FLEET_ROLLED_BACK (a canary failed its soak; the fleet was swapped back).
   *
   * @example
   * const { skewMs } = await fleet.swap({ waves: [1], soakMs: 30000 });
   */
  swap(options?: FleetSwapOptions): Promise<FleetSwapResult> {
    const swapOpts = swapOptions(options, this.opts);
    return this.#enqueue(async () => {
      const build = await readBuild(this.opts.library);
      await this.link.store(build.sha256, build.bytes);
      return this.#rollOut(build.sha256, swapOpts);
    });
  }

  /**
   * Swaps every member back to the build committed before the current one (in one wave).
   * Rejects with ERR_NO_ROLLBACK when there is none.
   *
   * @example
   * await fleet.rollback();
   */
  rollback(): Promise<FleetSwapResult> {
    return this.#enqueue(async () => {
      if (this.#previous === null) throw new IsoswapError('ERR_NO_ROLLBACK', `the fleet of ${this.opts.library} has no earlier committed build`);
      return this.#rollOut(this.#previous, { waves: [], soakMs: 0, margin: 0, smoke: undefined });
    });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new IsoswapError('ERR_HOST_CLOSED', 'the fleet is closed'));
    const result = this.#chain.then(task);
    this.#chain = result.catch(() => {});
    return result;
  }

  async #rollOut(sha256: string, { waves, soakMs, margin, smoke }: ReturnType<typeof swapOptions>): Promise<FleetSwapResult> {
    const swap = ++this.#nextSwap;
    const from = this.committed;
    const targets = [...this.#members.keys()];
    const groups = wavesOf(targets, waves);
    const holdMs = this.opts.prepareTimeoutMs + this.opts.commitTimeoutMs + soakMs * (groups.length - 1);
    await this.#prepareAll(swap, sha256, targets, holdMs, smoke);
    const cutOvers: MemberCutOver[] = [];
    for (const [wave, members] of groups.entries()) {
      const last = wave === groups.length - 1;
      if (last) {
        // The decision: members that join or reconnect from here on serve this build.
        try {
          await this.link.commit(sha256);
        } catch (err) {
          return this.#fail(swap, sha256, from, cutOvers.map((c) => c.member), targets, IsoswapError.from(err, 'ERR_FLEET_TRANSPORT', 'committing'));
        }
        this.#previous = from;
        this.committed = sha256;
      } else {
        // Before it moves: a canary member that reconnects during the soak reads it.
        const canary = [...cutOvers.map((c) => c.member), ...members];
        try {
          await this.link.canary({ sha256, members: canary });
        } catch (err) {
          return this.#fail(swap, sha256, from, cutOvers.map((c) => c.member), targets, IsoswapError.from(err, 'ERR_FLEET_TRANSPORT', 'recording the canary'));
        }
      }
      this.emit(FLEET_EVENTS.COMMIT, { swap, sha256, wave, members });
      cutOvers.push(...await this.#commitWave(swap, sha256, members));
      if (last) break;
      const served = new Set(cutOvers.map((c) => c.member));
      this.#soak = new Soak(served, new Set(targets.filter((m) => !served.has(m) && this.#members.has(m))), margin);
      const failed = await this.#soak.run(soakMs);
      const rates = this.#soak.rates;
      this.#soak = null;
      if (failed) {
        const error = new IsoswapError('ERR_FLEET_ROLLED_BACK',
          `fleet swap ${swap} to ${sha256.slice(0, 12)}… rolled back: the canary had ${rates.canary} failure(s) per member during its soak, the rest ${rates.rest} (margin ${margin})`,
          { swap, sha256, rates, margin, canary: [...served] });
        return this.#fail(swap, sha256, from, [...served], targets, error);
      }
    }
    await this.#catchUp();
    const times = cutOvers.map((c) => c.servedAt);
    const result = { swap, sha256, members: cutOvers, skewMs: times.length === 0 ? 0 : Math.max(...times) - Math.min(...times) };
    this.emit(FLEET_EVENTS.SWAP, result);
    return result;
  }

  /** Every target prepares; one refusal or loss aborts the swap for all. */
  async #prepareAll(swap: number, sha256: string, targets: string[], holdMs: number, smoke: SmokeCall | undefined): Promise<void> {
    this.emit(FLEET_EVENTS.PREPARE, { swap, sha256, members: targets });
    const request: FleetRequest = { type: 'prepare', swap, sha256, holdMs, smoke };
    const refusals: Refusal[] = [];
    await Promise.all(targets.map(async (member) => {
      const refusal = await this.#ask(member, request, this.opts.prepareTimeoutMs);
      if (refusal === null) this.emit(FLEET_EVENTS.PREPARED, { swap, member });
      else refusals.push(refusal);
    }));
    if (refusals.length === 0) return;
    await this.#abortAll(swap, targets);
    const error = new IsoswapError('ERR_FLEET_ABORTED',
      `fleet swap ${swap} to ${sha256.slice(0, 12)}… aborted at prepare, nobody moved: ${refusals.map((r) => `member ${r.member}: ${r.code} (${r.message})`).join('; ')}`,
      { swap, sha256, refusals });
    this.emit(FLEET_EVENTS.ABORT, error);
    throw error;
  }

  /** Null when the member answered ok, else why not. */
  async #ask(member: string, request: FleetRequest, timeoutMs: number): Promise<Refusal | null> {
    const reply = await this.link.request(member, request, timeoutMs).catch((err: unknown): FleetReply => ({ ok: false, error: IsoswapError.from(err, 'ERR_FLEET_TRANSPORT', `fleet member ${member}`).toJSON() }));
    if (reply.ok) {
      if (request.type === 'commit') this.#serving(member, reply.sha256, reply.version);
      return null;
    }
    return { member, code: reply.error.code, message: reply.error.message };
  }

  async #abortAll(swap: number, members: string[]): Promise<void> {
    await Promise.all(members.filter((m) => this.#members.has(m)).map((m) => this.#ask(m, { type: 'abort', swap }, this.opts.commitTimeoutMs)));
  }

  async #commitWave(swap: number, sha256: string, members: string[]): Promise<MemberCutOver[]> {
    const cutOvers: MemberCutOver[] = [];
    await Promise.all(members.map(async (member) => {
      const reply = await this.link.request(member, { type: 'commit', swap, sha256 }, this.opts.commitTimeoutMs)
        .catch((err: unknown): FleetReply => ({ ok: false, error: IsoswapError.from(err, 'ERR_FLEET_TRANSPORT', `fleet member ${member}`).toJSON() }));
      if (reply.ok) {
        this.#serving(member, reply.sha256, reply.version);
        cutOvers.push({ member, version: reply.version, servedAt: reply.servedAt ?? Date.now() });
      } else {
        this.#reportError(new IsoswapError(reply.error.code, `fleet member ${member} did not cut over to ${sha256.slice(0, 12)}… (it serves on what it served; it joins the committed build when it restarts): ${reply.error.message}`, { member, swap, sha256 }));
      }
    }));
    return cutOvers;
  }

  /** After a failed wave or commit: the rest discard, the members that moved move back. */
  async #fail(swap: number, sha256: string, from: string, moved: string[], targets: string[], error: IsoswapError): Promise<never> {
    await this.link.canary(null).catch(() => {}); // Redis away: the catch-up below puts members right
    await this.#abortAll(swap, targets.filter((m) => !moved.includes(m)));
    if (moved.length === 0) {
      const aborted = new IsoswapError('ERR_FLEET_ABORTED', `fleet swap ${swap} aborted before any member moved: ${error.message}`, { swap, sha256, refusals: [{ member: 'coordinator', code: error.code, message: error.message }] }, { cause: error });
      this.emit(FLEET_EVENTS.ABORT, aborted);
      throw aborted;
    }
    const back = ++this.#nextSwap;
    const alive = moved.filter((m) => this.#members.has(m));
    await this.#prepareAll(back, from, alive, this.opts.prepareTimeoutMs + this.opts.commitTimeoutMs, undefined)
      .then(() => this.#commitWave(back, from, alive))
      .catch((err: unknown) => this.#reportError(IsoswapError.from(err, 'ERR_FLEET_TRANSPORT', `rolling fleet swap ${swap} back`)));
    this.emit(FLEET_EVENTS.ROLLBACK, error);
    throw error;
  }

  /** Members that joined during a swap, on the build committed before it. */
  async #catchUp(): Promise<void> {
    const behind = [...this.#members.values()].filter((m) => m.sha256 !== this.committed).map((m) => m.id);
    if (behind.length > 0) await this.#commitWave(++this.#nextSwap, this.committed, behind);
  }

  #report(member: string, report: MemberReport): void {
    if (report.type === 'serving') return this.#serving(member, report.sha256, report.version);
    this.emit(FLEET_EVENTS.FAILURE, { member, type: report.type, code: report.code, sha256: report.sha256 });
    this.#soak?.count(member);
  }

  #serving(member: string, sha256: string, version: number): void {
    const known = this.#members.has(member);
    this.#members.set(member, { id: member, sha256, version });
    if (!known) {
      this.emit(FLEET_EVENTS.JOIN, { member, sha256, version });
      this.#checkJoined();
    }
  }

  #checkJoined(): void {
    if (this.#members.size >= this.opts.members) this.#joined?.();
  }

  #leave(member: string, crashed: boolean, why: string): void {
    const known = this.#members.get(member);
    if (known === undefined) return;
    this.#members.delete(member);
    this.emit(FLEET_EVENTS.LEAVE, { member, crashed, why });
    if (!crashed) return;
    this.emit(FLEET_EVENTS.FAILURE, { member, type: 'left', code: 'ERR_VERSION_CRASHED', sha256: known.sha256 });
    this.#soak?.count(member);
  }

  #reportError(error: IsoswapError): void {
    if (this.listenerCount(FLEET_EVENTS.ERROR) > 0) this.emit(FLEET_EVENTS.ERROR, error);
    else process.emitWarning(error.message, { code: error.code, type: 'IsoswapWarning' });
  }

  /** Waits for the swap under way, then stops coordinating. Members keep serving. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#chain;
    await this.link.close();
  }
}

/** `targets` cut into waves of the given sizes, the rest last; no empty wave. */
function wavesOf(targets: string[], sizes: number[]): string[][] {
  const groups: string[][] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= targets.length) break;
    groups.push(targets.slice(at, at + size));
    at += size;
  }
  if (at < targets.length || groups.length === 0) groups.push(targets.slice(at));
  return groups;
}
