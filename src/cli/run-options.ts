import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Isolation } from '../options.js';
import { checkCallArgs, type ArgTemplate } from './call-args.js';
import type { HeaderLookup } from './header-lookup.js';
import { UsageError, rejectUnknownOptions, type OptionSpecs } from './usage.js';

export { UsageError } from './usage.js';

/** One `--fn`: its prototype and the arguments each call gets. */
export interface CallPlan {
  name: string;
  prototype: string;
  args: ArgTemplate[];
}

/** `isoswap run`'s options once checked. */
export interface RunOptions {
  library: string;
  /** The functions to call, in the order given. */
  calls: CallPlan[];
  /** --header: the C header or Rust source declaring the functions. */
  header: string | undefined;
  /** Call every `everyMs` ms; null: once at load and after every swap. */
  everyMs: number | null;
  onEnter: boolean;
  watch: boolean;
  build: { command: string; src: string; ignore: string[] } | null;
  isolation: Isolation;
  json: boolean;
  stateBytes: number | null;
  libraryPath: string[];
  callTimeoutMs: number | null;
  /** --cluster N: N node:cluster workers, each serving the library as a fleet member,
   *  swapped all at once (docs/fleet.md); null: one process. */
  cluster: number | null;
}

export const RUN_HELP = `Usage: isoswap run <library> --fn "<prototype>[=<args>]" [options]

Serves <library> in its own worker thread (or child process), calls its functions and
swaps in every new build without stopping. What the library prints (stdout, stderr) is
shown above the status line, or as "output" events with --json.

Calls:
  -f, --fn <prototype>    a function to call, as a koffi prototype; repeatable
                          e.g. --fn "int32_t do_tick(int32_t)"
                          its own arguments after "=", comma-separated:
                          --fn "int32_t add(int32_t, int32_t)=2,{tick}"
      --header <file>     read the prototypes from a C header (.h) or Rust source
                          (.rs), again for every new build: --fn do_tick=1 is enough
  -a, --arg <value>       an argument for every --fn without "=..." that takes any;
                          repeatable; "{tick}" is the tick number (0, 1, 2, ...);
                          --arg -5 works; checked against the prototype (range, integer)
      --every <ms>        call the functions every <ms> milliseconds (a tick); without
                          it they are called once each time a version starts serving
      --on-enter          reload the library each time Enter is pressed (with --every
                          the ticks go on); unchanged bytes are not loaded again

Builds:
  -w, --watch             swap in each new build saved at <library>; waits for a
                          <library> that does not exist yet
      --build <command>   run <command> (in a shell) at start and when a file under
                          --src changes (one build per burst of saves); shows its output
                          if it fails and waits for the fix; Ctrl-C ends it at once
      --src <dir>         the sources --build watches
      --ignore <glob>     changes under --src that start no build; repeatable. Always
                          ignored: target/ .git/ node_modules/ dist/ build/ *.log *.o *.a
                          *.so *.d *.tmp *.swp *.lock .isoswap-* dot files, <library>,
                          and files this command's own output is redirected into

Host:
      --cluster <n>       run <n> node:cluster workers, each with its own host, as one
                          fleet: a new build is prepared in every worker, then served by
                          all of them at once, or by none (with --watch or --build)
      --isolation <mode>  thread (default) or process
      --state <bytes>     a state block of <bytes> bytes that survives swaps (hooks)
      --lib-path <dir>    a directory where the library's own dependencies are
                          found; repeatable
      --call-timeout <ms> a call that takes longer fails with ERR_CALL_TIMEOUT
      --json              print one JSON object a line, each with an "event" field:
                          load, call, swap, error, retired, building, build,
                          unchanged, waiting, output
  -h, --help              show this help

SIGINT (Ctrl-C) or SIGTERM closes the host, ends a running build and exits 0.
Exit codes: 0 after a signal, 1 when the library cannot be served (without --watch or
--build), 2 for a command line that cannot be run.

Examples:
  isoswap run ./libgame.so --fn "int32_t do_tick(int32_t)" --arg "{tick}" --every 100 --watch
  isoswap run ./libgame.so --fn "void reset(void)" --fn "int32_t do_tick(int32_t)=1" \\
      --every 500 --on-enter --build "make" --src .
`;

const OPTIONS = {
  fn: { type: 'string', short: 'f', multiple: true },
  header: { type: 'string' },
  arg: { type: 'string', short: 'a', multiple: true },
  every: { type: 'string' },
  'on-enter': { type: 'boolean' },
  watch: { type: 'boolean', short: 'w' },
  build: { type: 'string' },
  src: { type: 'string' },
  ignore: { type: 'string', multiple: true },
  isolation: { type: 'string' },
  cluster: { type: 'string' },
  state: { type: 'string' },
  'lib-path': { type: 'string', multiple: true },
  'call-timeout': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies OptionSpecs;

/**
 * The call name in a koffi prototype: the identifier right before the first `(`.
 */
export function functionName(prototype: string): string {
  const name = /([A-Za-z_]\w*)\s*\(/.exec(prototype)?.[1];
  if (name === undefined) throw new UsageError(`--fn "${prototype}" is not a prototype like "int32_t do_tick(int32_t)"`);
  return name;
}

/**
 * Parses `isoswap run`'s arguments (after `run`); null means --help was asked for.
 * Throws UsageError for a command line that cannot be run.
 */
export function parseRunArgs(argv: string[], header?: HeaderLookup): RunOptions | null {
  // Not strict: node's strict mode refuses "--arg -5"; unknown options and missing
  // values are refused by rejectUnknownOptions instead, with a suggestion.
  const { values, positionals, tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options: OPTIONS });
  rejectUnknownOptions(tokens, OPTIONS);
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  if (values.help === true) return null;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing <library>' : `one <library>, not ${positionals.length}: ${positionals.join(' ')}`);
  const prototypes = strings(values.fn);
  if (prototypes.length === 0) throw new UsageError('at least one --fn "<prototype>" is needed');
  const calls: CallPlan[] = [];
  const shared = strings(values.arg);
  for (const given of prototypes) {
    // "int32_t f(int32_t)=1,2": the arguments follow the prototype's closing parenthesis.
    // with --header, "do_tick=1": a name, its prototype from the header
    const split = (header === undefined ? null : /^([A-Za-z_]\w*)\s*=(.*)$/s.exec(given)) ?? /^(.*\))\s*=(.*)$/s.exec(given);
    const named = header !== undefined && /^[A-Za-z_]\w*$/.test(split?.[1] ?? given);
    const prototype = named ? header(split?.[1] ?? given) : split?.[1] ?? given;
    const name = functionName(prototype);
    if (calls.some((c) => c.name === name)) throw new UsageError(`--fn ${name} is given twice`);
    const raw = split === null ? shared : split[2]!.split(',').map((a) => a.trim()).filter((a, _i, all) => a !== '' || all.length > 1);
    calls.push({ name, prototype, args: checkCallArgs(name, prototype, raw, split === null) });
  }
  const every = one(values.every);
  const build = one(values.build);
  const src = one(values.src);
  if ((build === undefined) !== (src === undefined)) throw new UsageError('--build and --src go together');
  if (src !== undefined) directory('--src', src);
  const isolation = one(values.isolation) ?? 'thread';
  if (isolation !== 'thread' && isolation !== 'process') throw new UsageError(`--isolation is thread or process, not ${isolation}`);
  const state = one(values.state);
  const callTimeout = one(values['call-timeout']);
  const cluster = one(values.cluster);
  if (cluster !== undefined && values['on-enter'] === true) throw new UsageError('--on-enter does not go with --cluster (the workers share no terminal): use --watch');
  return {
    library: positionals[0]!,
    calls,
    header: one(values.header),
    everyMs: every === undefined ? null : wholeNumber('--every', every, 1),
    onEnter: values['on-enter'] === true,
    watch: values.watch === true,
    build: build !== undefined && src !== undefined ? { command: build, src, ignore: strings(values.ignore) } : null,
    isolation,
    json: values.json === true,
    stateBytes: state === undefined ? null : wholeNumber('--state', state, 1),
    libraryPath: strings(values['lib-path']).map((dir) => directory('--lib-path', dir)),
    callTimeoutMs: callTimeout === undefined ? null : wholeNumber('--call-timeout', callTimeout, 0),
    cluster: cluster === undefined ? null : wholeNumber('--cluster', cluster, 1),
  };
}

function wholeNumber(option: string, text: string, min: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${option} takes a whole number >= ${min}, not ${text}`);
  return n;
}

function directory(option: string, dir: string): string {
  let isDir = false;
  try { isDir = statSync(dir).isDirectory(); } catch { /* missing: said below */ }
  if (!isDir) throw new UsageError(`${option} ${dir}: no such directory`);
  return dir;
}
