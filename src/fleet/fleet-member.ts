import { IsoswapError } from '../errors.js';
import { HOST_EVENTS, type HostEmitter } from '../events.js';
import type { FleetMemberOptions } from '../options.js';
import type { VersionInfo } from '../version/version-info.js';
import { buildFor, type FleetBuild } from './fleet-build.js';
import { memberLink } from './links.js';
import type { FleetReply, FleetRequest, MemberLink, SmokeCall } from './protocol.js';

/** A build loaded and checked, not serving: what a member holds between prepare and commit. */
export interface PreparedBuild {
  readonly version: VersionInfo;
  commit(): Promise<VersionInfo>;
  discard(): Promise<void>;
}

/** What a member needs of its host (the host, a floor above, hands it over). */
export interface MemberHost extends HostEmitter {
  readonly current: VersionInfo;
  /** Prepares `build` with reason 'fleet' (the host's prepare(), which members refuse to users). */
  prepareForFleet(build: FleetBuild, smoke: SmokeCall | undefined): Promise<PreparedBuild>;
}

/**
 * One host's membership of a fleet: it joins (the first build is the fleet's committed
 * one, fetched by sha256 when `library` holds other bytes), then answers the coordinator's
 * prepare, commit and abort, and reports what it serves and how it fails. A prepared build
 * is discarded when the coordinator says abort, when the link breaks, or when no decision
 * came within the hold time it was given: only a commit makes a member move.
 */
export class FleetMember {
  readonly #prepared = new Map<number, Promise<PreparedBuild>>();
  /** Swaps told to abort, or discarded (lost link, hold time) before their load ended. */
  readonly #dropped = new Set<number>();
  #host: MemberHost | null = null;
  #closed = false;

  private constructor(
    private readonly link: MemberLink,
    readonly id: string,
    private readonly library: string,
    private readonly from: string,
  ) {}

  /**
   * Joins (within `joinTimeoutMs`) and returns the member with the build to serve first.
   */
  static async join(options: Required<FleetMemberOptions>, library: string): Promise<{ member: FleetMember; first: FleetBuild }> {
    const link = await memberLink(options.transport);
    try {
      const { id, committed } = await link.join(options.joinTimeoutMs);
      const from = options.transport === 'cluster' ? 'the cluster primary' : options.transport.redis;
      const member = new FleetMember(link, id, library, from);
      return { member, first: await member.#build(committed) };
    } catch (err) {
      await link.close();
      throw err;
    }
  }

  /** From now on the fleet drives `host`, which serves its first build. */
  serve(host: MemberHost): void {
    this.#host = host;
    host.on(HOST_EVENTS.SWAP, ({ to }) => this.link.report({ type: 'serving', sha256: to.sha256, version: to.id }));
    // A crash is reported once: the host's `error` event that follows it carries the same error.
    const crashes = new WeakSet<object>();
    host.on(HOST_EVENTS.CRASH, ({ version, error }) => {
      crashes.add(error);
      this.link.report({ type: 'crash', sha256: version.sha256, code: error.code });
    });
    host.on(HOST_EVENTS.ERROR, (error) => {
      if (!crashes.has(error)) this.link.report({ type: 'error', sha256: host.current.sha256, code: error.code });
    });
    this.link.serve((request) => this.#answer(request), () => this.#discardAll(), (committed) => void this.#catchUp(committed));
    this.link.report({ type: 'serving', sha256: host.current.sha256, version: host.current.id });
  }

  async #answer(request: FleetRequest): Promise<FleetReply> {
    try {
      switch (request.type) {
        case 'prepare': {
          const info = (await this.#prepare(request.swap, request.sha256, request.smoke, request.holdMs)).version;
          return { ok: true, version: info.id, sha256: info.sha256 };
        }
        case 'commit': return served(await this.#commit(request.swap, request.sha256));
        case 'abort': {
          this.#dropped.add(request.swap);
          await this.#discard(request.swap);
          return { ok: true, version: this.#host!.current.id, sha256: this.#host!.current.sha256 };
        }
      }
    } catch (err) {
      return { ok: false, error: IsoswapError.from(err, 'ERR_FLEET_TRANSPORT', `fleet member ${this.id}`).toJSON() };
    }
  }

  async #build(sha256: string): Promise<FleetBuild> {
    return buildFor(sha256, this.library, (sha) => this.link.fetch(sha), this.from);
  }

  #prepare(swap: number, sha256: string, smoke: SmokeCall | undefined, holdMs: number): Promise<PreparedBuild> {
    const prepared = (async () => {
      const build = await this.#build(sha256);
      if (this.#closed || this.#host === null) throw new IsoswapError('ERR_HOST_CLOSED', `fleet member ${this.id} is closing`);
      return this.#host.prepareForFleet(build, smoke);
    })();
    this.#prepared.set(swap, prepared);
    prepared.then((p) => {
      // An abort (or a lost link) that came while it loaded: discard it now.
      if (this.#dropped.has(swap)) return void this.#discardPrepared(p);
      // The coordinator may be gone: no member holds a standby for ever.
      setTimeout(() => void this.#discard(swap), holdMs).unref();
    }, () => this.#prepared.delete(swap));
    return prepared;
  }

  /** Serves what `swap` prepared; if nothing is (discarded at its hold time, or this member
   *  joined since), prepares `sha256` now and serves it. */
  async #commit(swap: number, sha256: string): Promise<VersionInfo> {
    const host = this.#host!;
    if (host.current.sha256 === sha256 && !this.#prepared.has(swap)) return host.current;
    // A swap dropped earlier (a lost link) is prepared again: the commit is the decision.
    if (!this.#prepared.has(swap)) this.#dropped.delete(swap);
    const prepared = this.#prepared.get(swap) ?? this.#prepare(swap, sha256, undefined, 0);
    this.#prepared.delete(swap);
    return (await prepared).commit();
  }

  async #discard(swap: number): Promise<void> {
    const prepared = this.#prepared.get(swap);
    if (prepared === undefined) return;
    this.#prepared.delete(swap);
    this.#dropped.add(swap);
    await prepared.then((p) => this.#discardPrepared(p), () => {});
  }

  #discardPrepared(prepared: PreparedBuild): Promise<void> {
    return prepared.discard().catch(() => {}); // committed meanwhile, or already discarded
  }

  #discardAll(): void {
    for (const swap of [...this.#prepared.keys()]) void this.#discard(swap);
  }

  /** Back after a lost link: the fleet committed another build meanwhile → serve it. */
  async #catchUp(committed: string): Promise<void> {
    const host = this.#host;
    if (host === null || this.#closed || host.current.sha256 === committed || this.#prepared.size > 0) return;
    await this.#commit(-1, committed).catch((err) => host.reportError(IsoswapError.from(err, 'ERR_FLEET_TRANSPORT', `fleet member ${this.id}: catching up with build ${committed.slice(0, 12)}`)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#discardAll();
    await this.link.close();
  }
}

function served(info: VersionInfo): FleetReply {
  return { ok: true, version: info.id, sha256: info.sha256, servedAt: performance.timeOrigin + performance.now() };
}

/** The error a user's own swap of a member rejects with. */
export function fleetMemberError(what: string, library: string): IsoswapError {
  return new IsoswapError('ERR_FLEET_MEMBER', `${what} of ${library}: this host is a fleet member; only its fleet swaps it (fleet.swap(), fleet.rollback())`, { file: library });
}
