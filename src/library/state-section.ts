import type { SectionRef } from '../wire/protocol.js';
import { platform } from '../platform/platform.js';

/** The section whose bytes isoswap carries from one version to the next (native/include/isoswap.h). */
export const STATE_SECTION = 'isoswap_state';

/**
 * Where the `isoswap_state` section sits in a library file (its address relative to the
 * load base, and its size); null without one. A section the loader would not map writable
 * in full is ERR_STATE_SECTION: the hand-over writes there (a segfault in thread isolation).
 */
export function findStateSection(bytes: Buffer, file: string): SectionRef | null {
  return platform().findSection(bytes, STATE_SECTION, file);
}
