import { createChannelBuffer, HEADER_BYTES } from './ring-layout.js';

/**
 * Rings of workers that ended, kept for the next workers of the same host: without it each
 * swap left a ring (shared memory) to the garbage collector, which does not see that
 * memory and collected it late: RSS grew with every swap.
 */
export class RingPool {
  readonly #free: SharedArrayBuffer[] = [];
  #made = 0;

  constructor(private readonly max = 4) {}

  /** A ring with a clean header (counters at zero): one given back, or a new one. */
  take(): SharedArrayBuffer {
    const ring = this.#free.pop();
    if (ring === undefined) {
      this.#made++;
      return createChannelBuffer();
    }
    new Uint8Array(ring, 0, HEADER_BYTES).fill(0);
    return ring;
  }

  /** Takes back a ring no thread reads or writes any more (its worker has exited). */
  give(ring: SharedArrayBuffer): void {
    if (this.#free.length < this.max && !this.#free.includes(ring)) this.#free.push(ring);
  }

  /** Rings made so far, and rings waiting to be reused. */
  get stats(): { made: number; free: number } {
    return { made: this.#made, free: this.#free.length };
  }
}
