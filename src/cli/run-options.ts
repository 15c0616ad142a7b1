import { parseArgs } from 'node:util';
import type { Isolation } from '../options.js';

/** `isoswap run`'s options once checked. */
export interface RunOptions {
  library: string;
  /** Call name → koffi prototype, in the order given. */
  functions: Record<string, string>;
  /** The arguments every function is called with. */
  args: Array<number | string>;
  /** Call every `everyMs` ms; null: once at load and after every swap. */
  everyMs: number | null;
  onEnter: boolean;
  watch: boolean;
  build: { command: string; src: string } | null;
  isolation: Isolation;
  json: boolean;
}

export const RUN_HELP = `Usage: isoswap run <library> --fn "<prototype>" [options]

Serves <library> in its own worker thread (or child process), calls its functions and
swaps in every new build without stopping.

Options:
  -f, --fn <prototype>    a function to call, as a koffi prototype; repeatable
                          e.g. --fn "int32_t do_tick(int32_t)"
  -a, --arg <value>       an argument for every call (number or string); repeatable;
                          negative numbers as --arg=-5
      --every <ms>        call each function every <ms> milliseconds
      --on-enter          reload the library each time Enter is pressed
  -w, --watch             swap in each new build saved at <library>
      --build <command>   run <command> (in a shell) when a file under --src changes,
                          show its output if it fails; the new artifact is swapped in
      --src <dir>         the sources --build watches (build products are not
                          sources: *.o *.a *.so *.d *.log, dot files, target/,
                          build/, dist/, node_modules/ are ignored)
      --isolation <mode>  thread (default) or process
      --json              print one JSON object a line, each with an "event" field:
                          load, call, swap, error, retired, build
  -h, --help              show this help

Without --every, each function is called once when a version starts serving.
SIGINT or SIGTERM closes the host and exits 0.

Example:
  isoswap run ./libgame.so --fn "int32_t do_tick(int32_t)" --arg 1 --every 100 --watch
`;

/** A command line that cannot be run; the CLI prints it with the help hint, exit 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

/**
 * The call name in a koffi prototype: the identifier right before the first `(`.
 *
 * @example
 * functionName('int32_t do_tick(int32_t)'); // 'do_tick'
 */
export function functionName(prototype: string): string {
  const name = /([A-Za-z_]\w*)\s*\(/.exec(prototype)?.[1];
  if (name === undefined) throw new UsageError(`--fn "${prototype}" is not a prototype like "int32_t do_tick(int32_t)"`);
  return name;
}

/**
 * Parses `isoswap run`'s arguments (after `run`); null means --help was asked for.
 * Throws UsageError for a command line that cannot be run.
 *
 * @example
 * parseRunArgs(['./libgame.so', '--fn', 'int32_t do_tick(int32_t)', '--arg', '1', '--every', '50']);
 */
export function parseRunArgs(argv: string[]): RunOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        fn: { type: 'string', short: 'f', multiple: true },
        arg: { type: 'string', short: 'a', multiple: true },
        every: { type: 'string' },
        'on-enter': { type: 'boolean' },
        watch: { type: 'boolean', short: 'w' },
        build: { type: 'string' },
        src: { type: 'string' },
        isolation: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return null;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing <library>' : `one <library>, not ${positionals.length}: ${positionals.join(' ')}`);
  const prototypes = values.fn ?? [];
  if (prototypes.length === 0) throw new UsageError('at least one --fn "<prototype>" is needed');
  const functions: Record<string, string> = {};
  for (const prototype of prototypes) {
    const name = functionName(prototype);
    if (Object.hasOwn(functions, name)) throw new UsageError(`--fn ${name} is given twice`);
    functions[name] = prototype;
  }
  let everyMs: number | null = null;
  if (values.every !== undefined) {
    everyMs = Number(values.every);
    if (!Number.isInteger(everyMs) || everyMs < 1) throw new UsageError(`--every takes a whole number of milliseconds >= 1, not ${values.every}`);
    if (values['on-enter'] === true) throw new UsageError('--every and --on-enter cannot be used together');
  }
  if ((values.build === undefined) !== (values.src === undefined)) throw new UsageError('--build and --src go together');
  const isolation = values.isolation ?? 'thread';
  if (isolation !== 'thread' && isolation !== 'process') throw new UsageError(`--isolation is thread or process, not ${isolation}`);
  return {
    library: positionals[0]!,
    functions,
    args: (values.arg ?? []).map((a) => (a.trim() !== '' && Number.isFinite(Number(a)) ? Number(a) : a)),
    everyMs,
    onEnter: values['on-enter'] === true,
    watch: values.watch === true,
    build: values.build !== undefined && values.src !== undefined ? { command: values.build, src: values.src } : null,
    isolation,
    json: values.json === true,
  };
}
