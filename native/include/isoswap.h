/*
 * isoswap.h: what a library served by isoswap may export. Everything is optional.
 *
 *   #include "isoswap.h"
 *   ISOSWAP_STATE static int32_t frames;      // survives every swap
 *   int32_t isoswap_load_ex(void *state, uint32_t bytes, const isoswap_info *info) {
 *       if (info->reason == ISOSWAP_FIRST_LOAD) puts("hello");   // once, not at every swap
 *       return 0;
 *   }
 *
 * See docs/state.md for the order the hooks run in and what the host does around them.
 */
#ifndef ISOSWAP_H
#define ISOSWAP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Globals placed in the section "isoswap_state" are copied from the old version to the
 * new one at every swap: after the old version drained and ran isoswap_unload, before the
 * new one's isoswap_load and first call. A version restarted after a crash starts from the
 * bytes taken at the last swap (its initial values if there was none).
 *
 * Plain data only: never a pointer into the library's code, its string literals or its
 * heap (the old version is unloaded; in process isolation its heap is another process).
 * The section's layout is the contract between versions: if its size changes the swap is
 * refused (ERR_STATE_LAYOUT), unless the new version declares ISOSWAP_STATE_PREFIX_OK, in
 * which case the common prefix is copied and the rest keeps its initial values.
 */
/*
 * On Windows the section is found in the DLL's section table: mingw keeps the long name
 * (in the string table, unless stripped: then "isoswap_"); MSVC's linker keeps 8 bytes,
 * so MSVC builds name it "isoswap_" from the start. Both are found.
 */
#if defined(_MSC_VER)
#pragma section("isoswap_", read, write)
#define ISOSWAP_STATE __declspec(allocate("isoswap_"))
#else
#define ISOSWAP_STATE __attribute__((section("isoswap_state"), used))
#endif

/*
 * Marks a function the host calls (your functions and the hooks below) as exported. A
 * mingw DLL exports every function until one is marked __declspec(dllexport): from then
 * on only the marked ones, and MSVC exports only marked ones. A shared object built with
 * -fvisibility=hidden likewise. Nothing needs it in a default gcc or mingw build.
 */
#if defined(_WIN32)
#define ISOSWAP_EXPORT __declspec(dllexport)
#else
#define ISOSWAP_EXPORT __attribute__((visibility("default")))
#endif

/* Put once in a library whose section may grow or shrink: only append fields. (Not
 * marked for mingw: one marked symbol would end its export of every function.) */
#if defined(_MSC_VER)
#define ISOSWAP_STATE_PREFIX_OK ISOSWAP_EXPORT const int32_t isoswap_state_prefix_ok = 1
#elif defined(_WIN32)
#define ISOSWAP_STATE_PREFIX_OK __attribute__((used)) const int32_t isoswap_state_prefix_ok = 1
#else
#define ISOSWAP_STATE_PREFIX_OK \
    __attribute__((visibility("default"), used)) const int32_t isoswap_state_prefix_ok = 1
#endif

/* Why isoswap_load_ex runs. */
enum isoswap_reason {
    ISOSWAP_FIRST_LOAD = 0, /* the first version of this host */
    ISOSWAP_RELOAD = 1,     /* reload() or a watched rebuild */
    ISOSWAP_ROLLBACK = 2,   /* rollback(), or a crashing build given up on */
    ISOSWAP_RESTART = 3,    /* the same build again, after the version crashed */
    ISOSWAP_REATTACH = 4    /* this version again, after the new one's load refused */
};

/* How the version this one replaces failed (restart, and a rollback after a crash). */
enum isoswap_failure {
    ISOSWAP_FAILURE_NONE = 0,
    ISOSWAP_FAILURE_SEGFAULT = 1, /* SIGSEGV or SIGBUS */
    ISOSWAP_FAILURE_ILLEGAL = 2,  /* SIGILL */
    ISOSWAP_FAILURE_ABORT = 3,    /* SIGABRT (abort(), a failed assert) */
    ISOSWAP_FAILURE_FPE = 4,      /* SIGFPE */
    ISOSWAP_FAILURE_SIGNAL = 5,   /* another signal */
    ISOSWAP_FAILURE_EXIT = 6,     /* the library called exit() */
    ISOSWAP_FAILURE_TIMEOUT = 7,  /* a call outlived callTimeoutMs; the version was killed */
    ISOSWAP_FAILURE_OTHER = 8     /* the worker died another way */
};

typedef struct isoswap_info {
    uint32_t version;  /* this version's number: 1, 2, 3 ... (host.current.id) */
    uint32_t reason;   /* enum isoswap_reason */
    uint32_t failure;  /* enum isoswap_failure */
    uint32_t previous; /* the version this one replaces; 0 at the first load */
} isoswap_info;

/* Attach to the state block (NULL and 0 without one); non-zero refuses this version. */
int32_t isoswap_load(void *state, uint32_t bytes);
/* The same, told what happened. When exported it runs instead of isoswap_load. */
int32_t isoswap_load_ex(void *state, uint32_t bytes, const isoswap_info *info);
/* Let go of the state block: after it returns the library must not touch it again. */
void isoswap_unload(void *state, uint32_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* ISOSWAP_H */
