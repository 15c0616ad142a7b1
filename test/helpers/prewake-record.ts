// What test/helpers/prewake-worker.ts records, shared with the test that reads it.

/** Int32 words of workerData.record. */
export const REC = {
  /** Blocks with a full slice (no window predicted). */
  fullSlices: 0,
  /** Blocks cut short for a predicted window. */
  shortSlices: 1,
  bursts: 2,
  misses: 3,
  /** The test sets 1 while the stub predicts windows. */
  stubOn: 4,
  /** Calls "count" ran. */
  calls: 5,
  /** Blocks since the test last zeroed it. */
  blocks: 6,
  /** Blocks that ended (a wake, a nudge or the slice's end) since the test last zeroed it. */
  woken: 7,
  /** While the test sets 1, a woken worker waits before it looks at the ring: the test
   *  publishes several requests that it then finds together. */
  hold: 8,
} as const;
export const REC_WORDS = 9;
/** The worker's full block slice. */
export { BLOCK_SLICE_MS as FULL_SLICE_MS } from '../../src/transport/channel-server.js';
