import { IsoswapError } from '../errors.js';
import { platform } from '../platform/platform.js';
import type { SectionRef } from '../wire/protocol.js';

/**
 * The `isoswap_state` section of a library loaded in this worker or child: its address is
 * the load base plus the section's address in the file. Read and written with memcpy,
 * only while no call runs.
 */
export class StateSection {
  readonly #address: bigint;
  readonly bytes: number;

  /**
   * @param copy the path the library was loaded from
   */
  constructor(copy: string, section: SectionRef) {
    let base: bigint;
    try {
      base = platform().loadBase(copy);
    } catch (err) {
      throw new IsoswapError('ERR_NOT_A_LIBRARY', `cannot find the isoswap_state section of ${copy}: ${(err as Error).message}`, { file: copy }, { cause: err });
    }
    this.#address = base + BigInt(section.vaddr);
    this.bytes = section.size;
  }

  /** The section's bytes: into `into` (a SharedArrayBuffer view, thread isolation), else a new copy. */
  read(into?: Uint8Array): Uint8Array | undefined {
    const out = into ?? new Uint8Array(this.bytes);
    platform().copyFrom(out, this.#address, Math.min(out.byteLength, this.bytes));
    return into === undefined ? out : undefined;
  }

  /** Overwrites the start of the section with `bytes` (the common prefix when sizes differ). */
  write(bytes: Uint8Array): void {
    platform().copyTo(this.#address, bytes, Math.min(bytes.byteLength, this.bytes));
  }
}
