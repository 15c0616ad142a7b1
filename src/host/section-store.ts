import { IsoswapError } from '../errors.js';
import type { Isolation } from '../options.js';
import type { Version } from '../version/version.js';
import { blocking } from '../procedure.js';

/**
 * Carries the `isoswap_state` section from each version to the next, and keeps the bytes
 * of the last swap: a version restarted after a crash starts from them (the crashed one
 * cannot be read), or from its initial values when no swap took any.
 */
export class SectionStore {
  #last: Uint8Array | null = null;

  constructor(private readonly isolation: Isolation, private readonly library: string) {}

  /** Whether a swap from `from` to `next` has a section to carry: calls are then held. */
  involved(from: Version, next: Version): boolean {
    return from.section !== null || next.section !== null;
  }

  /**
   * Throws ERR_STATE_LAYOUT unless `next` can take the section `from` has (or, from a
   * crashed version, the bytes of the last swap): the same size, or a new version that
   * declares ISOSWAP_STATE_PREFIX_OK (the common prefix is copied). A version that adds
   * the section where there was none starts from its initial values.
   */
  check(from: Version, next: Version): void {
    const had = from.status === 'serving' ? from.section?.bytes ?? 0 : this.#last?.byteLength ?? 0;
    const has = next.section?.bytes ?? 0;
    if (had === 0 || had === has || next.section?.prefixOk === true) return;
    throw new IsoswapError('ERR_STATE_LAYOUT',
      `the isoswap_state section of ${this.library} is ${has} bytes in version ${next.id}, ${had} in version ${from.id}: ` +
      'refused (declare ISOSWAP_STATE_PREFIX_OK in the new version to copy the common prefix)',
      { file: this.library, version: next.id, bytes: has, previousBytes: had });
  }

  /** After `old` drained and ran isoswap_unload: its section becomes the bytes to carry.
   *  Thread isolation: the worker copies into shared memory, never through a message. */
  take(old: Version, timeoutMs: number): void {
    const bytes = old.section?.bytes ?? 0;
    if (bytes === 0) return;
    const into = this.isolation === 'thread' ? new Uint8Array(new SharedArrayBuffer(bytes)) : undefined;
    this.#last = blocking(old.readSection(into, timeoutMs));
  }

  /** Before `next`'s isoswap_load: it gets the bytes of the last swap, if any. */
  give(next: Version, timeoutMs: number): void {
    if (this.#last !== null && next.section !== null) next.writeSection(this.#last, timeoutMs);
  }
}
