/** A starter project `isoswap init` writes. */
export interface Starter {
  /** The artifact the build makes, as `isoswap run` names it. */
  library: string;
  /** The build command, run in the project folder. */
  build: string;
  /** The file to edit first. */
  edit: string;
  /** .gitignore lines. */
  ignored: string[];
  /** Path in the project → content. */
  files: Record<string, string>;
}

/** The state block the starters ask for: it holds their `game_state`. */
export const STARTER_STATE_BYTES = 64;

/**
 * The one command that runs a starter: build, serve, tick every 500 ms, rebuild and swap
 * on every save.
 */
export function runScript(starter: Starter): string {
  // Double quotes: npm runs scripts with cmd.exe on Windows, which has no single quotes.
  return `isoswap run ${starter.library} --fn "int32_t do_tick(int32_t)" --arg "{tick}" --every 500 `
    + `--state ${STARTER_STATE_BYTES} --build "${starter.build}" --src .`;
}
