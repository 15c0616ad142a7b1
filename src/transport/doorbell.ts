import { closeSync, writeSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { libcFunctions, O_CLOEXEC } from '../library/libc.js';

// O_CLOEXEC: only the child whose stdio array names an end inherits it (see
// sync-pipe-call.ts). O_NONBLOCK: a ring never blocks its writer; a full pipe already
// holds a byte that will wake the reader.
const O_NONBLOCK = 0o4000;

/** The two ends of a doorbell pipe. */
export interface DoorbellPipe {
  readFd: number;
  writeFd: number;
}

/**
 * A pipe one side rings (one byte) to wake the other out of its event loop: a process
 * that sleeps on a ring in memory shared with another process cannot use
 * Atomics.waitAsync (the memory is not a SharedArrayBuffer), but its event loop can
 * watch an fd. Null if the kernel refuses a pipe. With `blocking`, a plain pipe whose
 * reads and writes wait (for data that must arrive whole, e.g. a spilled string result).
 */
export function doorbellPipe(blocking = false): DoorbellPipe | null {
  const fds = new Int32Array(2);
  if (libcFunctions().pipe2(fds, blocking ? O_CLOEXEC : O_CLOEXEC | O_NONBLOCK) !== 0) return null;
  return { readFd: fds[0]!, writeFd: fds[1]! };
}

/**
 * Calls `onRing` on this thread's event loop each time bytes arrive on `readFd` (several
 * rings may come as one). The socket does not keep the process alive; destroy() it to
 * close the fd.
 */
export function listenDoorbell(readFd: number, onRing: () => void): Socket {
  // onread: into one reused buffer, without the stream machinery ('data' events, a Buffer
  // per read): a ring round trip through two event loops took half the time.
  // (Node's constructor takes it; its types list it for connect() only.)
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd: readFd, readable: true, writable: false, onread: { buffer: RING_BUFFER, callback: () => { onRing(); return true; } },
  };
  const socket = new Socket(options);
  socket.unref();
  socket.on('error', () => {}); // the other side is gone: its exit is seen elsewhere
  return socket;
}

/**
 * Writes one byte; false when the other side is gone (EPIPE). EAGAIN (full) counts as
 * rung: unread bytes are already waiting.
 */
export function ringDoorbell(writeFd: number): boolean {
  try {
    writeSync(writeFd, ONE_BYTE);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EAGAIN';
  }
}

/** Closes an fd this module made, ignoring one already closed. */
export function closeDoorbellFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

const ONE_BYTE = new Uint8Array([1]);
/** Where rings are read into (their bytes mean nothing). */
const RING_BUFFER = Buffer.alloc(64);
