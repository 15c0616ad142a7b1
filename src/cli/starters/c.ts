import type { Platform } from '../../platform/platform.js';
import type { Starter } from './starter.js';

/**
 * `isoswap init --lang c`: one C file, built by the C compiler into this system's kind of
 * library (`libgame.so`, `game.dll`).
 */
export const cStarter = (system: Platform): Starter => {
  const library = `${system.libraryPrefix}game${system.libraryExtension}`;
  return {
    library: `./${library}`,
    build: system.buildC.replace('{out}', library).replace('{src}', 'game.c'),
    edit: 'game.c',
    ignored: [library, 'node_modules/'],
    files: {
      'game.c': `/*
 * The game's logic. Run "npm run dev", then change SPEED (or anything) and save: the
 * library is rebuilt and the new version swapped in while the game runs on, with the
 * same state.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SPEED 1

/* Every global the game keeps across versions lives in this struct, inside the state
 * block isoswap owns (--state). Only ever append fields: the next version reads it. */
struct game_state {
    uint32_t magic;
    uint32_t layout;
    int32_t ticks;
    int32_t x;
};
#define GAME_MAGIC 0x454d4147u
#define GAME_LAYOUT 1u

static struct game_state own = { GAME_MAGIC, GAME_LAYOUT, 0, 0 };
static struct game_state *game = &own;

/* Called when this version takes over the block; non-zero refuses the version. */
int32_t isoswap_load(void *block, uint32_t bytes)
{
    struct game_state *s = block;
    if (s == NULL)
        return 0; /* no state block: keep our own */
    if (bytes < sizeof *s)
        return 1;
    if (s->magic != GAME_MAGIC) { /* the first version: a new game */
        memset(s, 0, sizeof *s);
        s->magic = GAME_MAGIC;
        s->layout = GAME_LAYOUT;
    } else if (s->layout != GAME_LAYOUT) {
        return 2;
    }
    game = s;
    return 0;
}

/* Called before this version is unloaded: let go of the block. */
void isoswap_unload(void *block, uint32_t bytes)
{
    (void)block;
    (void)bytes;
    game = &own;
}

int32_t do_tick(int32_t tick)
{
    game->ticks++;
    game->x += SPEED;
    printf("tick %d: x = %d (speed %d)\\n", tick, game->x, SPEED);
    return game->x;
}
`,
    },
  };
};
