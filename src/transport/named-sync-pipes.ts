import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { hostPipe, namedEvent, pipePath, processState, uniqueName, type HostPipe, type NamedEvent } from '../platform/named-objects.js';
import { napSync } from '../platform/nap.js';

/** The variable that tells a child the base name of its blocking path's pipes. */
const SYNC_VARIABLE = 'ISOSWAP_SYNC';
/** How long a host waiting to write (the pipe full, or the child not yet connected) naps. */
const WRITE_NAP_MS = 1;
/** Requests and replies up to this size go in one write. */
const PIPE_BYTES = 1 << 20;

function names(base: string): { request: string; reply: string; replied: string } {
  return { request: `${base}-request`, reply: `${base}-reply`, replied: `${base}-replied` };
}

/**
 * The blocking path of process isolation on Windows (what pipe2 and poll are on Linux):
 * a named pipe host → child the host writes without waiting, a named pipe child → host it
 * reads only what is there, and a named event the child sets after each reply, which the
 * blocked host waits on in slices. A child that never connected, or died, ends the wait:
 * its pipe reports the end, or its process no longer runs.
 */
export class NamedSyncPipes {
  /** The child's pid, once forked (0 before). */
  child = 0;

  private constructor(
    readonly childEnv: Readonly<Record<string, string>>, private readonly request: HostPipe, private readonly reply: HostPipe,
    private readonly replied: NamedEvent,
  ) {}

  static create(): NamedSyncPipes | null {
    const base = uniqueName('sync');
    const name = names(base);
    const request = hostPipe(name.request, 'out', PIPE_BYTES);
    const reply = hostPipe(name.reply, 'in', PIPE_BYTES);
    const replied = namedEvent(name.replied, 'create');
    if (request === null || reply === null || replied === null) {
      for (const held of [request, reply, replied]) held?.close();
      return null;
    }
    return new NamedSyncPipes({ [SYNC_VARIABLE]: base }, request, reply, replied);
  }

  /** Writes what fits now (0: nothing yet; then it naps up to `ms`); -1 when the child is gone. */
  writeSome(bytes: Uint8Array, at: number, ms: number): number {
    const sent = this.request.writeSome(bytes, at);
    if (sent !== 0) return sent;
    if (!this.#runs()) return -1;
    napSync(Math.min(WRITE_NAP_MS, ms));
    return 0;
  }

  /** Reads what is there into `out` (0: nothing came within `ms`); -1 once the child is gone. */
  read(out: Uint8Array, ms: number): number {
    const ready = this.reply.available();
    if (ready > 0) return this.reply.read(out.subarray(0, Math.min(ready, out.length)));
    if (ready < 0 || !this.#runs()) return -1;
    this.replied.wait(ms);
    return 0;
  }

  #runs(): boolean {
    return this.child === 0 || processState(this.child).runs;
  }

  close(): void {
    for (const held of [this.request, this.reply, this.replied]) held.close();
  }
}

/**
 * In the child: the blocking path its host named, as a stream of request bytes (read on
 * the event loop) and a reply function; null when the host named none.
 */
export function openNamedSyncPipes(): { requests: Socket; reply: (bytes: Uint8Array) => void } | null {
  const base = process.env[SYNC_VARIABLE];
  if (base === undefined) return null;
  delete process.env[SYNC_VARIABLE]; // not for the library's own children
  const name = names(base);
  let replyFd: number;
  try {
    replyFd = openSync(pipePath(name.reply), constants.O_WRONLY);
  } catch {
    return null;
  }
  const replied = namedEvent(name.replied, 'open');
  if (replied === null) {
    closeSync(replyFd);
    return null;
  }
  const requests = connect(pipePath(name.request));
  return {
    requests,
    reply(bytes) {
      for (let sent = 0; sent < bytes.length;) sent += writeSync(replyFd, bytes, sent);
      replied.set();
    },
  };
}
