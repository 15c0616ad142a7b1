import cluster, { type Worker } from 'node:cluster';
import { IsoswapError } from '../errors.js';
import type { CoordinatorEvents, CoordinatorLink, FleetReply, FleetRequest, MemberLink, MemberReport } from './protocol.js';
import { PendingReplies } from './pending-replies.js';

/**
 * The fleet protocol over `node:cluster` IPC: the primary is the coordinator, each worker
 * a member. Cluster IPC serializes as JSON by default (a Buffer would arrive as an array of
 * numbers), so bytes travel as base64 and the member checks their sha256.
 */

/** Marks the fleet's messages among the program's own. */
const TAG = 'isoswap:fleet';

type Message =
  | { kind: 'coordinator' }
  | { kind: 'hello'; rid: number }
  | { kind: 'welcome'; rid: number; id: string; committed: string }
  | { kind: 'fetch'; rid: number; sha256: string }
  | { kind: 'bytes'; rid: number; base64: string | null }
  | { kind: 'request'; rid: number; request: FleetRequest }
  | { kind: 'reply'; rid: number; reply: FleetReply }
  | { kind: 'report'; report: MemberReport }
  | { kind: 'bye' };

function unwrap(message: unknown): Message | undefined {
  return typeof message === 'object' && message !== null ? (message as Record<string, Message | undefined>)[TAG] : undefined;
}

function transportError(message: string): IsoswapError {
  return new IsoswapError('ERR_FLEET_TRANSPORT', message);
}

/** The primary's end. */
export class ClusterCoordinatorLink implements CoordinatorLink {
  readonly #pending = new PendingReplies<FleetReply>();
  readonly #builds = new Map<string, Buffer>();
  #committed = '';
  #events: CoordinatorEvents | null = null;

  static open(): Promise<ClusterCoordinatorLink> {
    if (!cluster.isPrimary) return Promise.reject(transportError("a fleet with transport 'cluster' is coordinated from the cluster primary"));
    return Promise.resolve(new ClusterCoordinatorLink());
  }

  start(events: CoordinatorEvents): Promise<void> {
    this.#events = events;
    cluster.on('message', this.#onMessage);
    cluster.on('exit', this.#onExit);
    // Workers that said hello before this primary listened say it again.
    for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) send(worker, { kind: 'coordinator' });
    return Promise.resolve();
  }

  readonly #onMessage = (worker: Worker, raw: unknown): void => {
    const message = unwrap(raw);
    const member = String(worker.id);
    switch (message?.kind) {
      case 'hello': return send(worker, { kind: 'welcome', rid: message.rid, id: member, committed: this.#committed });
      case 'fetch': {
        const bytes = this.#builds.get(message.sha256);
        return send(worker, { kind: 'bytes', rid: message.rid, base64: bytes === undefined ? null : bytes.toString('base64') });
      }
      case 'reply': return this.#pending.settle(message.rid, message.reply);
      case 'report': return this.#events?.report(member, message.report);
      case 'bye': return this.#gone(member, false, 'it closed its host');
    }
  };

  readonly #onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    this.#gone(String(worker.id), signal !== null || code !== 0, `its process exited (${signal ?? `code ${code}`})`);
  };

  #gone(member: string, crashed: boolean, why: string): void {
    this.#pending.failMember(member, transportError(`fleet member ${member} is gone: ${why}`));
    this.#events?.leave(member, crashed, why);
  }

  request(member: string, request: FleetRequest, timeoutMs: number): Promise<FleetReply> {
    const worker = cluster.workers?.[Number(member)];
    if (worker === undefined || !worker.isConnected()) return Promise.reject(transportError(`fleet member ${member} is gone`));
    const { rid, reply } = this.#pending.open(member, timeoutMs, `${request.type} to fleet member ${member}`);
    send(worker, { kind: 'request', rid, request });
    return reply;
  }

  store(sha256: string, bytes: Buffer): Promise<void> {
    this.#builds.set(sha256, bytes);
    return Promise.resolve();
  }

  commit(sha256: string): Promise<void> {
    const previous = this.#committed;
    this.#committed = sha256;
    // Kept: the committed build and the one before (a rollback); a build prepared and
    // aborted goes once another commits.
    for (const sha of this.#builds.keys()) if (sha !== sha256 && sha !== previous) this.#builds.delete(sha);
    return Promise.resolve();
  }

  /** A cluster member never reconnects (its link is its process): nothing to record. */
  canary(): Promise<void> {
    return Promise.resolve();
  }

  async initial(sha256: string): Promise<string> {
    await this.commit(sha256);
    return sha256;
  }

  close(): Promise<void> {
    cluster.off('message', this.#onMessage);
    cluster.off('exit', this.#onExit);
    this.#pending.failAll(transportError('the fleet is closed'));
    return Promise.resolve();
  }
}

function send(worker: Worker, message: Message): void {
  worker.send({ [TAG]: message }, () => {}); // a worker gone: its 'exit' fails what waits on it
}

/** A worker's end. */
export class ClusterMemberLink implements MemberLink {
  readonly #waiting = new PendingReplies<Message>();
  #onRequest: ((request: FleetRequest) => Promise<FleetReply>) | null = null;
  #hello: (() => void) | null = null;
  #lost: (() => void) | null = null;

  static open(): Promise<ClusterMemberLink> {
    if (!cluster.isWorker || process.send === undefined) return Promise.reject(transportError("a fleet member with transport 'cluster' must run in a node:cluster worker"));
    const link = new ClusterMemberLink();
    process.on('message', link.#onMessage);
    process.on('disconnect', link.#onDisconnect);
    return Promise.resolve(link);
  }

  readonly #onMessage = (raw: unknown): void => {
    const message = unwrap(raw);
    switch (message?.kind) {
      case 'coordinator': return this.#hello?.();
      case 'welcome': case 'bytes': return this.#waiting.settle(message.rid, message);
      case 'request': {
        const { rid, request } = message;
        void this.#onRequest?.(request).then((reply) => post({ kind: 'reply', rid, reply }));
        return;
      }
    }
  };

  readonly #onDisconnect = (): void => {
    this.#waiting.failAll(transportError('the IPC channel to the cluster primary closed'));
    this.#lost?.();
  };

  async join(timeoutMs: number): Promise<{ id: string; committed: string }> {
    const { rid, reply } = this.#waiting.open('primary', timeoutMs, 'joining the fleet (no coordinator answered: is createFleet running in the primary?)', 'ERR_FLEET_JOIN');
    this.#hello = () => post({ kind: 'hello', rid });
    this.#hello();
    try {
      const welcome = await reply as Extract<Message, { kind: 'welcome' }>;
      return { id: welcome.id, committed: welcome.committed };
    } finally {
      this.#hello = null;
    }
  }

  async fetch(sha256: string): Promise<Buffer> {
    const { rid, reply } = this.#waiting.open('primary', 60_000, `fetching build ${sha256.slice(0, 12)} from the primary`);
    post({ kind: 'fetch', rid, sha256 });
    const { base64 } = await reply as Extract<Message, { kind: 'bytes' }>;
    if (base64 === null) throw transportError(`the cluster primary does not hold build ${sha256.slice(0, 12)}…`);
    return Buffer.from(base64, 'base64');
  }

  serve(handler: (request: FleetRequest) => Promise<FleetReply>, lost: () => void): void {
    this.#onRequest = handler;
    this.#lost = lost;
  }

  report(report: MemberReport): void {
    post({ kind: 'report', report });
  }

  close(): Promise<void> {
    post({ kind: 'bye' });
    process.off('message', this.#onMessage);
    process.off('disconnect', this.#onDisconnect);
    this.#waiting.failAll(transportError('the fleet member closed'));
    return Promise.resolve();
  }
}

function post(message: Message): void {
  if (process.connected) process.send!({ [TAG]: message }, undefined, {}, () => {}); // a primary gone: 'disconnect' tells
}
