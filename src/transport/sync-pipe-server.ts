import { fstatSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { deserialize } from 'node:v8';
import { IsoswapError } from '../errors.js';
import type { LibraryServiceApi, MarkReply, SyncReply } from '../wire/protocol.js';
import { CHILD_REPLY_FD, CHILD_REQUEST_FD, frame } from './sync-pipe-call.js';

/**
 * Serves the host's `callSync` frames (src/transport/sync-pipe-call.ts) from fd 4 on this
 * process's event loop, with the same LibraryService the IPC path calls (hooks, state and
 * order behave the same), and answers each on fd 5, blocking: the host is blocked in
 * read() until it comes.
 *
 * @example
 * serveSyncPipe(new LibraryService());
 */
export function serveSyncPipe(service: Pick<LibraryServiceApi, 'call'>): void {
  try {
    fstatSync(CHILD_REQUEST_FD);
  } catch {
    return; // a host without the pipes (not Linux): its callSync refuses
  }
  const requests = new Socket({ fd: CHILD_REQUEST_FD, readable: true, writable: false });
  requests.unref(); // the IPC channel decides when this process ends
  let pending: Buffer = Buffer.alloc(0);
  requests.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const end = 4 + pending.readUInt32LE(0);
      if (pending.length < end) break;
      const request = deserialize(pending.subarray(4, end)) as { name: string; args: unknown[] };
      pending = pending.subarray(end);
      reply(answer(service, request.name, request.args));
    }
  });
  requests.on('error', () => {}); // the host closed its end: it is gone, 'disconnect' ends us
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
 *
 * @example
 * service.onMark = answerMark;
 */
export function answerMark(seq: number): void {
  reply(frame({ ok: true, value: { isoswapMark: seq } satisfies MarkReply } satisfies SyncReply));
}

function reply(bytes: Buffer): void {
  try {
    for (let sent = 0; sent < bytes.length;) sent += writeSync(CHILD_REPLY_FD, bytes, sent);
  } catch {
    // EPIPE: the host is gone
  }
}
