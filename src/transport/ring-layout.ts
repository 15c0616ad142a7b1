/**
 * The memory layout of one worker's call channel, shared by the host side
 * (src/transport/call-channel.ts) and the worker side (src/transport/channel-server.ts).
 *
 * A single-producer, single-consumer ring: the host writes a request into slot
 * `seq % SLOTS` and publishes it by storing HEAD = seq + 1; the worker runs requests in
 * order, writes each result into the same slot and stores DONE = seq + 1. Counters are
 * int32 and wrap; every comparison is on their difference.
 */

/** Int32 index of each header word. HEAD and DONE sit on their own 64-byte cache
 *  lines: one is written by the host, the other by the worker, and sharing a line
 *  would make the two cores fight over it on every call. */
export const HEAD = 0;
export const DONE = 16;
/** What the worker does now: one of WORKER_*. */
export const WORKER_STATE = 32;
/** 1 while the host sleeps in Atomics.wait/waitAsync on DONE (the worker notifies only then). */
export const HOST_WAITING = 33;
/** The worker's kernel thread id, so a host blocked in callSync can see it die. */
export const WORKER_TID = 34;
const HEADER_INTS = 48;

export const WORKER_RUNNING = 0;
/** Parked in Atomics.waitAsync on HEAD: the host must notify after publishing. */
export const WORKER_PARKED = 1;
export const WORKER_STOPPED = 2;
export const WORKER_EXITED = 3;

/** Slots in the ring (a power of two, so that `seq & MASK` survives the int32 wrap). */
export const SLOTS = 2048;
export const MASK = SLOTS - 1;
export const MAX_ARGS = 8;
/** Float64 words per slot: the arguments, then the result. */
export const SLOT_VALUES = MAX_ARGS + 1;
/** Int32 words per slot: function index, then status. */
export const SLOT_META = 2;

export const STATUS_OK = 0;
/** koffi refused the arguments (the host checks types first, so this is rare). */
export const STATUS_BAD_ARGUMENTS = 1;
/** No function with that index in this version. */
export const STATUS_UNKNOWN_FUNCTION = 2;

/** A `state-pointer` argument that is null. */
export const NULL_POINTER = -1;

const META_BYTES = SLOTS * SLOT_META * 4;
const VALUES_OFFSET = HEADER_INTS * 4 + META_BYTES; // a multiple of 8

/** The typed views both sides use over one channel buffer. */
export interface ChannelViews {
  header: Int32Array;
  meta: Int32Array;
  values: Float64Array;
}

/**
 * A new channel buffer, all zero.
 *
 * @example
 * const buffer = createChannelBuffer(); worker.postMessage({ channel: buffer });
 */
export function createChannelBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(VALUES_OFFSET + SLOTS * SLOT_VALUES * 8);
}

/**
 * The views over a channel buffer.
 *
 * @example
 * const { header, meta, values } = channelViews(buffer);
 */
export function channelViews(buffer: SharedArrayBuffer): ChannelViews {
  return {
    header: new Int32Array(buffer, 0, HEADER_INTS),
    meta: new Int32Array(buffer, HEADER_INTS * 4, SLOTS * SLOT_META),
    values: new Float64Array(buffer, VALUES_OFFSET, SLOTS * SLOT_VALUES),
  };
}
