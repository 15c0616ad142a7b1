import { readSync, writeSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { deserialize, serialize } from 'node:v8';
import { IsoswapError } from '../errors.js';
import { libcFunctions } from '../library/libc.js';
import type { CallbackReply, CallbackRequest } from '../wire/addon-wire.js';
import type { SyncReply } from '../wire/protocol.js';
import { CHILD_REPLY_FD, CHILD_REQUEST_FD, frame } from '../transport/sync-pipe-call.js';
import type { CallHost } from './addon-values.js';

/** The most a callback request may weigh in process isolation: the IPC pipe takes that much
 *  at once, and the rest would wait for this child's event loop, which waits for the answer. */
const MAX_REQUEST_BYTES = 32 * 1024;
/** How long a guest waits between looks at its blocking path while a callback runs. */
const SLICE_MS = 20;
const POLLIN = 0x1;

/** A callSync that reaches a guest waiting for a host callback cannot be served: the host
 *  is blocked in it, so the callback would never run. */
const busy = (): SyncReply => ({ ok: false, error: new IsoswapError('ERR_CALLBACK_PENDING',
  'the version is waiting for a host callback of a call made with call(); the host cannot run it while blocked in callSync').toJSON() });

/**
 * Thread isolation: a host callback as the guest calls it. The request goes on the
 * worker's channel with a port of its own for the answer; the thread blocks in
 * Atomics.wait until the host has run the function (on its event loop) and answered. A
 * callSync that arrives meanwhile on `sync` is answered ERR_CALLBACK_PENDING at once.
 */
export function threadCallHost(post: (message: unknown, transfer: MessageChannel['port1'][]) => void,
  sync?: { port: MessageChannel['port1']; replies: Int32Array }): CallHost {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  return (id, args) => {
    const { port1, port2 } = new MessageChannel();
    Atomics.store(wake, 0, 0);
    try {
      post({ isoswapCallback: { id, args }, reply: port1, wake }, [port1]);
    } catch (err) {
      port2.close();
      throw new IsoswapError('ERR_NOT_CLONEABLE', `an argument of a host callback cannot cross to the host: ${(err as Error).message}`, { callback: id });
    }
    while (Atomics.load(wake, 0) === 0) {
      Atomics.wait(wake, 0, 0, SLICE_MS);
      if (sync !== undefined && receiveMessageOnPort(sync.port) !== undefined) {
        sync.port.postMessage(busy());
        Atomics.add(sync.replies, 0, 1);
        Atomics.notify(sync.replies, 0);
      }
    }
    const reply = receiveMessageOnPort(port2)?.message as CallbackReply | undefined;
    port2.close();
    return answer(reply, id);
  };
}

/**
 * Process isolation: the request goes over IPC; the child then reads the answer from its
 * callSync request pipe (fd 4), blocking in poll(): its event loop (and so the IPC
 * channel) does not run until the addon returns. A callSync frame found there meanwhile is
 * answered ERR_CALLBACK_PENDING on fd 5.
 */
export function processCallHost(): CallHost {
  return (id, args) => {
    const request = { isoswapCallback: { id, args } } satisfies CallbackRequest;
    const bytes = serialize(request).length;
    if (bytes > MAX_REQUEST_BYTES) {
      throw new IsoswapError('ERR_NOT_CLONEABLE', `the arguments of a host callback take ${bytes} bytes; in process isolation at most ${MAX_REQUEST_BYTES} cross while the addon waits (the IPC pipe's share)`,
        { callback: id, bytes });
    }
    process.send?.(request);
    for (;;) {
      const message = deserialize(readFrame()) as { isoswapReply?: CallbackReply } | { name: string };
      if ('isoswapReply' in message) return answer(message.isoswapReply, id);
      writeAll(frame(busy()));
    }
  };
}

function answer(reply: CallbackReply | undefined, id: number): unknown {
  if (reply === undefined) throw new IsoswapError('ERR_VERSION_CRASHED', `host callback ${id} got no answer`, { callback: id });
  if (reply.ok) return reply.value;
  const err = new Error(reply.error.message);
  err.name = reply.error.name;
  if (reply.error.code !== undefined) (err as { code?: string }).code = reply.error.code;
  throw err;
}

function readFrame(): Buffer {
  const head = readExactly(4);
  return readExactly(head.readUInt32LE(0));
}

function readExactly(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  const polled = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
  for (let got = 0; got < bytes;) {
    try {
      const n = readSync(CHILD_REQUEST_FD, out, got, bytes - got, null);
      if (n === 0) throw new IsoswapError('ERR_VERSION_CRASHED', 'the host closed the callback path', {});
      got += n;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      polled.writeInt32LE(CHILD_REQUEST_FD, 0);
      polled.writeInt16LE(POLLIN, 4);
      libcFunctions().poll(polled, 1, -1);
    }
  }
  return out;
}

function writeAll(bytes: Buffer): void {
  for (let sent = 0; sent < bytes.length;) sent += writeSync(CHILD_REPLY_FD, bytes, sent);
}
