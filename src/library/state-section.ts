import type { SectionRef } from '../wire/protocol.js';
import { platform } from '../platform/platform.js';

/** The section whose bytes isoswap carries from one version to the next (native/include/isoswap.h). */
export const STATE_SECTION = 'isoswap_state';

/**
 * Where the `isoswap_state` section sits in a library file (its address relative to the
 * load base, and its size); null without one.
 *
 * @example
 * findStateSection(readFileSync('libgame.so')); // { vaddr: 16400, size: 8 }
 */
export function findStateSection(bytes: Buffer): SectionRef | null {
  return platform().findSection(bytes, STATE_SECTION);
}
