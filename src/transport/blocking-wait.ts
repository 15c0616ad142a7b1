import { IsoswapError } from '../errors.js';

/** A blocked call wakes this often to check that its worker still lives: the worker's
 *  'exit' event cannot reach a host that blocks. */
export const LIVENESS_MS = 50;

/**
 * The end of a blocking call that may take `timeoutMs` (0: no limit), and how long the
 * next Atomics.wait may sleep; throws ERR_CALL_TIMEOUT once the end has passed.
 */
export class Deadline {
  readonly #end: number;

  constructor(private readonly name: string, private readonly timeoutMs: number) {
    this.#end = timeoutMs > 0 ? performance.now() + timeoutMs : Number.POSITIVE_INFINITY;
  }

  sliceMs(): number {
    const left = this.#end - performance.now();
    if (left <= 0) {
      throw new IsoswapError('ERR_CALL_TIMEOUT', `${this.name} took longer than ${this.timeoutMs} ms`,
        { function: this.name, timeoutMs: this.timeoutMs });
    }
    return Math.min(LIVENESS_MS, left);
  }

  /** What is left, as the `timeoutMs` of the next blocking step (0: no limit); throws
   *  ERR_CALL_TIMEOUT once past the end. */
  stepMs(): number {
    if (this.#end === Number.POSITIVE_INFINITY) return 0;
    this.sliceMs();
    return Math.max(1, Math.ceil(this.#end - performance.now()));
  }

  /** The end has passed. */
  get passed(): boolean {
    return performance.now() >= this.#end;
  }
}
