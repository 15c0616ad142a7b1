/* isoswap.h: what a library served by isoswap may export. */
#ifndef ISOSWAP_H
#define ISOSWAP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Optional hooks, looked up in every version. `state` points at the same block in every
 * version (the host's `state: { bytes }`), NULL without one. */

/* Runs before the version's first call; non-zero refuses the version (ERR_LOAD_HOOK). */
int32_t isoswap_load(void *state, uint32_t bytes);
/* Runs before the version is unloaded, after its last call. */
void isoswap_unload(void *state, uint32_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* ISOSWAP_H */
