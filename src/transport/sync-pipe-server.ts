import { fstatSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { deserialize } from 'node:v8';
import { IsoswapError } from '../errors.js';
import type { LibraryServiceApi, MarkReply, SyncReply } from '../wire/protocol.js';
import { platform } from '../platform/platform.js';
import { openNamedSyncPipes } from './named-sync-pipes.js';
import { CHILD_REPLY_FD, CHILD_REQUEST_FD, frame } from './sync-pipe-call.js';

/**
 * Serves the host's `callSync` frames (src/transport/sync-pipe-call.ts) from fd 4 on this
 * process's event loop, with the same LibraryService the IPC path calls (hooks, state and
 * order behave the same), and answers each on fd 5, blocking: the host is blocked in
 * read() until it comes.
 */
export function serveSyncPipe(service: Pick<LibraryServiceApi, 'call'>): void {
  let requests: Socket;
  if (platform().namedChannels) {
    // Windows: pipes opened by the names the host gave (fd 4 may be another open file)
    const named = openNamedSyncPipes();
    if (named === null) return; // a host that passed none: its callSync refuses
    ({ requests } = named);
    writeReply = named.reply;
  } else {
    try {
      fstatSync(CHILD_REQUEST_FD);
    } catch {
      return; // a host without the pipes: its callSync refuses
    }
    requests = new Socket({ fd: CHILD_REQUEST_FD, readable: true, writable: false });
  }
  requests.unref(); // the IPC channel decides when this process ends
  const frames = new FrameReader();
  requests.on('data', (chunk: Buffer) => {
    for (const body of frames.push(chunk)) {
      const request = deserialize(body) as { name: string; args: unknown[]; isoswapReply?: unknown };
      if (request.isoswapReply !== undefined) continue; // an addon callback's answer that came too late
      reply(answer(service, request.name, request.args));
    }
  });
  requests.on('error', () => {}); // the host closed its end: it is gone, 'disconnect' ends us
}

/**
 * Cuts a byte stream into frames (a 4-byte little-endian length, then the body). Chunks are
 * kept as they come and joined once per frame: joining at every 64 KiB chunk copied a
 * 16 MiB request 256 times.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #have = 0;
  /** The length of the frame being read (head included), -1 until its head is in. */
  #need = -1;

  /** The bodies of the frames `chunk` completes, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#have += chunk.length;
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.#need < 0 && this.#have >= 4) this.#need = 4 + this.#joined().readUInt32LE(0);
      if (this.#need < 0 || this.#have < this.#need) return bodies;
      const all = this.#joined();
      bodies.push(all.subarray(4, this.#need));
      const rest = all.subarray(this.#need);
      this.#chunks = rest.length === 0 ? [] : [rest];
      this.#have = rest.length;
      this.#need = -1;
    }
  }

  #joined(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#have)];
    return this.#chunks[0]!;
  }
}

function answer(service: Pick<LibraryServiceApi, 'call'>, name: string, args: unknown[]): Buffer {
  try {
    return frame({ ok: true, value: service.call(name, args) } satisfies SyncReply);
  } catch (err) {
    const error = IsoswapError.from(err, 'ERR_BAD_ARGUMENTS', `${name}`).toJSON();
    return frame({ ok: false, error } satisfies SyncReply);
  }
}

/**
 * Answers mark `seq` on the reply pipe (a host blocked in a swap's drain waits for it).
 */
export function answerMark(seq: number): void {
  reply(frame({ ok: true, value: { isoswapMark: seq } satisfies MarkReply } satisfies SyncReply));
}

/** Writes a reply whole, blocking (the host blocks until it comes). */
let writeReply = (bytes: Uint8Array): void => {
  for (let sent = 0; sent < bytes.length;) sent += writeSync(CHILD_REPLY_FD, bytes, sent);
};

function reply(bytes: Buffer): void {
  try {
    writeReply(bytes);
  } catch {
    // EPIPE: the host is gone
  }
}
