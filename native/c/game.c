/*
 * The seed's game logic, in C: the host ticks it, and every version of it may be
 * rebuilt and swapped in while the game runs. It shows both ways to keep globals across
 * swaps (docs/state.md compares them):
 *   - the game's struct lives in the state block the host owns (the host reads it too);
 *   - plain statics marked ISOSWAP_STATE are carried from each version to the next.
 *
 *   gcc -shared -fPIC -O2 -DSPEED=3 -Inative/include -o libgame.so game.c
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "isoswap.h"

#ifndef SPEED
#define SPEED 1 /* rebuild with another -DSPEED to get a visibly different version */
#endif

#define GAME_MAGIC 0x454d4147u /* "GAME": the block was initialised by some version */
#define GAME_LAYOUT 1u         /* bump when the struct changes shape */

/* All the game's globals. The layout is the contract between versions (and with the
 * host, which reads these fields from `host.state`): only ever append fields. */
struct game_state {
    uint32_t magic;
    uint32_t layout;
    int32_t ticks;  /* do_tick calls, over every version */
    int32_t score;  /* sum of the speeds of every tick */
    int32_t x;      /* position: += speed * dt */
    int32_t speed;  /* SPEED of the version that ran the last tick */
    int32_t loads;  /* versions that accepted this state */
    int32_t unloads;
};

/* Without a host-owned block (no isoswap_load call), the game still runs, on this. */
static struct game_state fallback = { GAME_MAGIC, GAME_LAYOUT, 0, 0, 0, 0, 0, 0 };
static struct game_state *game = &fallback;

/* The other way: ordinary globals, carried over at every swap by isoswap. */
ISOSWAP_STATE static int32_t lifetime_ticks = 0;  /* do_tick calls, over every version */
ISOSWAP_STATE static int32_t versions_seen = 0;   /* isoswap_load_ex calls */

int32_t isoswap_load_ex(void *state, uint32_t bytes, const isoswap_info *info)
{
    versions_seen++;
    if (info->reason == ISOSWAP_FIRST_LOAD)
        printf("game: hello (once, at the first load)\n");
    else if (info->reason == ISOSWAP_RESTART)
        printf("game: version %u restarted after version %u failed (%u)\n", info->version, info->previous, info->failure);
    fflush(stdout);
    if (state == NULL)
        return 0; /* the host has no state block: keep the private one */
    if (bytes < sizeof(struct game_state))
        return 1; /* refuse: the block cannot hold our globals */
    struct game_state *s = state;
    if (s->magic != GAME_MAGIC) {
        memset(s, 0, sizeof *s); /* the first version: a new game */
        s->magic = GAME_MAGIC;
        s->layout = GAME_LAYOUT;
    } else if (s->layout != GAME_LAYOUT) {
        return 2; /* refuse: the block was written by an incompatible version */
    }
    s->loads++;
    game = s;
    return 0;
}

void isoswap_unload(void *state, uint32_t bytes)
{
    (void)bytes;
    if (state != NULL && game == state)
        game->unloads++;
    game = &fallback; /* never touch the block after the host took it back */
}

int32_t lifetime(void) { return lifetime_ticks; }

int32_t do_tick(int32_t dt)
{
    lifetime_ticks++;
    game->ticks++;
    game->speed = SPEED;
    game->x += SPEED * dt;
    game->score += SPEED;
    return game->score;
}
