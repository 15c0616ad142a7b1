import { IsoswapError } from '../errors.js';
import { cString, libcFunctions } from '../library/libc.js';
import type { SectionRef } from '../wire/protocol.js';

const RTLD_LAZY = 0x1;
const RTLD_NOLOAD = 0x4;
const RTLD_DI_LINKMAP = 2;

/**
 * The `isoswap_state` section of a library loaded in this worker or child: its address is
 * the load base (from the link map: `struct link_map` starts with `l_addr`) plus the
 * section's address in the file. Read and written with memcpy, only while no call runs.
 */
export class StateSection {
  readonly #address: bigint;
  readonly bytes: number;

  /**
   * @param copy the path the library was dlopen'ed from (it is loaded: RTLD_NOLOAD)
   * @example
   * const section = new StateSection(request.copy, request.section); section.read();
   */
  constructor(copy: string, section: SectionRef) {
    const { dlopen, dlinfo, dlclose, copyFrom } = libcFunctions();
    const handle = dlopen(cString(copy), RTLD_LAZY | RTLD_NOLOAD);
    if (handle === null) throw new IsoswapError('ERR_NOT_A_LIBRARY', `${copy} is not loaded: cannot find its isoswap_state section`, { file: copy });
    try {
      // Out values in typed arrays, not koffi's: see cString
      const word = new BigUint64Array(1);
      if (dlinfo(handle, RTLD_DI_LINKMAP, word) !== 0) throw new IsoswapError('ERR_NOT_A_LIBRARY', `dlinfo refused ${copy}`, { file: copy });
      copyFrom(new Uint8Array(word.buffer), word[0]!, 8); // l_addr
      this.#address = word[0]! + BigInt(section.vaddr);
    } finally {
      dlclose(handle); // RTLD_NOLOAD still counted a reference
    }
    this.bytes = section.size;
  }

  /** The section's bytes: into `into` (a SharedArrayBuffer view, thread isolation), else a new copy. */
  read(into?: Uint8Array): Uint8Array | undefined {
    const out = into ?? new Uint8Array(this.bytes);
    libcFunctions().copyFrom(out, this.#address, Math.min(out.byteLength, this.bytes));
    return into === undefined ? out : undefined;
  }

  /** Overwrites the start of the section with `bytes` (the common prefix when sizes differ). */
  write(bytes: Uint8Array): void {
    libcFunctions().copyTo(this.#address, bytes, Math.min(bytes.byteLength, this.bytes));
  }
}
