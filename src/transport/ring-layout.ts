/**
 * The memory layout of one worker's call ring, shared by the host side
 * (src/transport/call-channel.ts) and the worker side (src/transport/channel-server.ts);
 * what a slot's words mean is src/transport/ring-codec.ts.
 *
 * A single-producer, single-consumer ring: the host writes a request into slot
 * `seq % SLOTS` and publishes it by storing HEAD = seq + 1; the worker runs requests in
 * order, writes each result into the same slot and stores DONE = seq + 1. Counters are
 * int32 and wrap; every comparison is on their difference.
 *
 * Nothing here needs a SharedArrayBuffer: the views work over any ArrayBuffer both sides
 * map (Atomics.load/store work on a plain ArrayBuffer too; only waiting differs).
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
/** Bumped by the host to wake a worker blocked on it (WORKER_BLOCKED): after publishing
 *  to it, and after every message it posts to the worker (whose event loop does not run
 *  while it blocks). */
export const WAKE = 35;
/** 1 when the host woke a blocked worker for a call it is about to publish: the worker
 *  spins for it instead of turning its event loop (the host's own first steps after idle
 *  overlap the worker's wake-up). */
export const CALL_COMING = 40;
/** Bumped by the host after every message it posts to the worker (then WAKE): a worker
 *  about to block turns its event loop first when it moved since the last turn. WAKE
 *  alone cannot tell, as a call bumps it too. */
export const POSTED = 41;
/** The CPU the host's thread ran on at its last look, plus one (0: unknown): a worker
 *  spinning on that very CPU moves off it (channel-server.ts). */
export const HOST_CPU = 42;
/** Each side looks at its CPU once per this many calls (a power of two). */
export const CPU_LOOK_EVERY = 256;
/** Float64 index (ChannelViews.stamps) of when the host published to a sleeping worker,
 *  and when the worker answered a sleeping host (clock.ts nowMs: one clock for threads and
 *  processes). A side woken late learns from it when the change really came, which the
 *  time it woke cannot tell under load (spin-budget.ts). */
export const HEAD_AT = 18;
export const DONE_AT = 19;
/** Float64 index of when the worker expects the next burst of calls (nowMs) and of the
 *  period it learnt (wake-predictor.ts), NaN while it expects none: the host warms the
 *  call path up shortly before (warm-up.ts). */
export const NEXT_BURST_AT = 22;
export const BURST_PERIOD = 23;
const HEADER_INTS = 48;
/** The header's size: zeroing it makes a used ring new (ring-pool.ts). */
export const HEADER_BYTES = HEADER_INTS * 4;

export const WORKER_RUNNING = 0;
/** Parked on its event loop (a thread: Atomics.waitAsync on HEAD; a child: its doorbell
 *  pipe): the host must notify after publishing. */
export const WORKER_PARKED = 1;
export const WORKER_STOPPED = 2;
export const WORKER_EXITED = 3;
/** Blocked (Atomics.wait or a futex) on WAKE, its event loop stopped: the host bumps WAKE
 *  and notifies it after publishing or posting a message (channel-server.ts). */
export const WORKER_BLOCKED = 4;
/** Awake and spinning for a burst of calls it predicts (wake-predictor.ts), after idle: the
 *  host sends no wake-up, but waits for the answer as for a woken worker (cold code). */
export const WORKER_WATCHING = 5;

/** META_FN of the host's warm-up call (warm-up.ts): the worker answers it without running
 *  anything, and it is no burst of calls to the worker's predictor. */
export const WARM_UP_FN = 0x7fffffff;

/** Slots in the ring (a power of two, so that `seq & MASK` survives the int32 wrap). */
export const SLOTS = 2048;
export const MASK = SLOTS - 1;
export const MAX_ARGS = 8;
/** 8-byte value words per slot: the arguments, then the result. A word holds a float64,
 *  a 64-bit integer, or two int32 (arena offset and length) as its tag says. */
export const SLOT_VALUES = MAX_ARGS + 1;
/** Int32 words per slot: function index, status, argument tags, element kinds. */
export const SLOT_META = 4;
export const META_FN = 0;
/** The worker's answer (STATUS_*). On the way in, for a tagged call (an addon export): its
 *  argument count, plus TAGGED_BLOCKING when the host blocks for it (callSync). */
export const META_STATUS = 1;
export const TAGGED_BLOCKING = 1 << 8;
/** 4 bits per argument (ring-codec.ts TAG_*); kept through the call: the host reads them
 *  again to copy `_Out_` buffers back. */
export const META_TAGS = 2;
/** 4 bits per argument: the typed array kind of a pointer argument (ring-codec.ts); after
 *  the call, the result's tag (the worker has read the kinds by then). */
export const META_ELEMENTS = 3;

/** Bytes of the per-call arena: strings and copied buffers of the calls in flight, and
 *  the room reserved for string results. Allocated in ring order by the host, freed as
 *  results are collected. */
export const ARENA_BYTES = 256 * 1024;
/** At most this much arena for one call: a bigger one takes the message path. */
export const MAX_CALL_BYTES = 64 * 1024;

export const STATUS_OK = 0;
/** koffi refused the arguments (the host checks types first, so this is rare). */
export const STATUS_BAD_ARGUMENTS = 1;
/** No function with that index in this version. */
export const STATUS_UNKNOWN_FUNCTION = 2;
/** The function threw (a tagged call): the IsoswapError, serialized, is on the side channel. */
export const STATUS_THREW = 3;

const META_BYTES = SLOTS * SLOT_META * 4;
const VALUES_OFFSET = HEADER_INTS * 4 + META_BYTES; // a multiple of 8
const ARENA_OFFSET = VALUES_OFFSET + SLOTS * SLOT_VALUES * 8;
/** The size of one ring's memory. */
export const RING_BYTES = ARENA_OFFSET + ARENA_BYTES;

/** What the sleep and wake signals (ring-signals.ts) touch: the header words and stamps. */
export type RingHeader = Pick<ChannelViews, 'header' | 'stamps'>;

/** The typed views both sides use over one ring. */
export interface ChannelViews {
  header: Int32Array;
  /** The header as float64, for HEAD_AT and DONE_AT. */
  stamps: Float64Array;
  meta: Int32Array;
  /** The value words as float64 ... */
  values: Float64Array;
  /** ... as int32 pairs (word i is words[2i], words[2i+1]) ... */
  words: Int32Array;
  /** ... and as 64-bit integers. */
  int64: BigInt64Array;
  uint64: BigUint64Array;
  /** The arena, as bytes (a Buffer for its fast UTF-8 reads and writes). */
  arena: Buffer;
}

/**
 * A new ring, all zero.
 */
export function createChannelBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(RING_BYTES);
}

/**
 * The views over a ring's memory (a SharedArrayBuffer, or any ArrayBuffer both sides map).
 */
export function channelViews(buffer: ArrayBufferLike): ChannelViews {
  const valueWords = SLOTS * SLOT_VALUES;
  return {
    header: new Int32Array(buffer, 0, HEADER_INTS),
    stamps: new Float64Array(buffer, 0, HEADER_INTS / 2),
    meta: new Int32Array(buffer, HEADER_INTS * 4, SLOTS * SLOT_META),
    values: new Float64Array(buffer, VALUES_OFFSET, valueWords),
    words: new Int32Array(buffer, VALUES_OFFSET, valueWords * 2),
    int64: new BigInt64Array(buffer, VALUES_OFFSET, valueWords),
    uint64: new BigUint64Array(buffer, VALUES_OFFSET, valueWords),
    arena: Buffer.from(buffer, ARENA_OFFSET, ARENA_BYTES),
  };
}
