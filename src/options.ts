import { resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { IsoswapError } from './errors.js';

/** What a `header` option resolves with. */
export interface HeaderRequest {
  /** The header (or Rust source), absolute. */
  file: string;
  /** `functions` given with the header: call name → the header's function name, or a
   *  prototype of it (checked against the header). Empty: every function of the header. */
  pick: FunctionTable;
  /** A prototype in `pick` that differs from the header is accepted (the header wins). */
  allowSignatureChange: boolean;
  /** How long the C preprocessor may run (`loadTimeoutMs`; its own default when 0 or absent). */
  timeoutMs?: number;
}

/** Call name → koffi prototype, e.g. `{ do_tick: 'int32_t do_tick(int32_t)' }`. */
export type FunctionTable = Record<string, string>;

export type Isolation = 'thread' | 'process';

/** What a build thread isolation can never unmap (NODELETE, STB_GNU_UNIQUE) gets: a
 *  `warning` from the second version on, a refusal (ERR_PINNED_LIBRARY), or a child process. */
export type OnPinned = 'warn' | 'refuse' | 'process';

/** How fleet members and their coordinator meet: `node:cluster` IPC (one machine), or a
 *  Redis server and a group name (many machines). See docs/fleet.md. */
export type FleetTransport = 'cluster' | { redis: string; group: string };

/** The `fleet` option: this host is a member of a fleet, swapped only by it. */
export interface FleetMemberOptions {
  transport: FleetTransport;
  /** How long joining may wait for a coordinator's answer. Default 30000. */
  joinTimeoutMs?: number;
}

/** Options of {@link createIsolatedHost}. */
export interface IsolatedHostOptions<F extends FunctionTable = FunctionTable> {
  /** The shared library to serve (a path; relative paths are taken from the cwd). */
  library: string;
  /** The functions to declare: call name → koffi prototype. With `header`: optional, and
   *  it picks and renames: call name → a function name of the header (or its prototype). */
  functions?: F;
  /** A C header (`.h`) or Rust source (`.rs`) declaring the library's functions: read again
   *  at every new build (see docs/header.md). */
  header?: string;
  /** With `header`: a new build whose declared functions changed signature is served
   *  (calls use the new prototypes) instead of refused with ERR_SIGNATURE_CHANGED. */
  allowSignatureChange?: boolean;
  /** Reload when `library` changes on disk. Default false. */
  watch?: boolean;
  /** 'thread' (default): a worker thread per version; 'process': a child process. */
  isolation?: Isolation;
  /** Workers per version (thread isolation); that many calls run at once. Default 1. */
  threads?: number;
  /** A block of memory that survives swaps, passed to the hooks. */
  state?: { bytes: number };
  /** 0: no limit; else a call that takes longer rejects with ERR_CALL_TIMEOUT. */
  callTimeoutMs?: number;
  /** How long loading a build may take (a constructor that never returns); 0: no limit.
   *  Default 30000. */
  loadTimeoutMs?: number;
  /** How long a retiring version (or the old one at a state hand-over) may take to finish
   *  its calls in flight; 0: no limit. Default 10000. */
  drainTimeoutMs?: number;
  /** How long isoswap_load, isoswap_unload or a `beforeSwap` listener may run before it is given up
   *  (ERR_HOOK_TIMEOUT); 0: no limit. Default 5000. */
  hookTimeoutMs?: number;
  /** How many earlier good builds keep their bytes for rollback(). Default 5. */
  keepBuilds?: number;
  /** Where the private copies go when the library's own directory takes no file (they
   *  are written beside the library first: see docs/loading.md). Default os.tmpdir(). */
  tempDir?: string;
  /** Directories the version's dependencies are found in (CLI `--lib-path`), e.g. Rust's
   *  `$(rustc --print sysroot)/lib/rustlib/<target>/lib` for a `-C prefer-dynamic` dylib. */
  libraryPath?: string[];
  /** Join a fleet (docs/fleet.md): the first build is the fleet's committed one, and only
   *  the fleet swaps this host (`reload()` rejects ERR_FLEET_MEMBER; no `watch`). */
  fleet?: FleetMemberOptions;
  /** When the serving build keeps crashing: after `max` crashes of the same build within
   *  `windowMs` it is rolled back instead of started again. Default `{ max: 3, windowMs: 10000 }`. */
  crashPolicy?: CrashPolicyOptions;
  /** Thread isolation, a build marked NODELETE or with STB_GNU_UNIQUE symbols (never
   *  unmapped: `VersionInfo.pinned`): 'warn' (default) serves it and emits a `warning`
   *  ERR_PINNED_LIBRARY from the second version on; 'refuse' refuses it with
   *  ERR_PINNED_LIBRARY (the current version serves on); 'process' serves that version
   *  from a child process. See docs/addons.md. */
  onPinned?: OnPinned;
}

/** `crashPolicy`: `max` crashes of one build within `windowMs` and it is given up on. */
export interface CrashPolicyOptions {
  /** 1 to 1000; 1: never restarted, rolled back at its first crash. Default 3. */
  max?: number;
  /** 1 to 2³¹−1 ms. Default 10000. */
  windowMs?: number;
}

export interface ResolvedOptions<F extends FunctionTable = FunctionTable> {
  library: string;
  /** Without `header`: the functions every version declares. With it: the pick. */
  functions: F;
  header: HeaderRequest | undefined;
  watch: boolean;
  isolation: Isolation;
  threads: number;
  stateBytes: number;
  callTimeoutMs: number;
  loadTimeoutMs: number;
  drainTimeoutMs: number;
  hookTimeoutMs: number;
  keepBuilds: number;
  tempDir: string | undefined;
  /** Absolute directories. */
  libraryPath: string[];
  crashPolicy: Required<CrashPolicyOptions>;
  /** Serve a Node-API addon's exports instead of `functions` (src/addon/). */
  addon?: boolean;
  /** An addon's handles: how long they may keep a retired version (0: no limit), and how
   *  many retired versions they may keep at once (src/addon/addon-options.ts). */
  handles?: { timeoutMs: number; keepVersions: number } | undefined;
  fleet: Required<FleetMemberOptions> | undefined;
  onPinned: OnPinned;
  /** An addon's `process.dlopen` flags (os.constants.dlopen); undefined: Node's default. */
  dlopenFlags?: number | undefined;
  /** createAddonHost({ module }): the package's entry module, absolute. */
  module?: string | undefined;
}

/**
 * Every option name createIsolatedHost accepts: the one list the unknown-name check reads.
 * A new option is added to IsolatedHostOptions *and* here (the type below fails to compile
 * otherwise). `libraryPath`, `header` and `allowSignatureChange` are checked by their own
 * owners' code.
 */
export const OPTION_NAMES = [
  'library', 'functions', 'watch', 'isolation', 'threads', 'state', 'callTimeoutMs', 'loadTimeoutMs',
  'drainTimeoutMs', 'hookTimeoutMs', 'keepBuilds', 'tempDir', 'libraryPath', 'header', 'allowSignatureChange', 'crashPolicy', 'fleet',
  'onPinned',
] as const;
type Unlisted = Exclude<keyof IsolatedHostOptions, (typeof OPTION_NAMES)[number]>;
const everyOptionListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyOptionListed;

/** Workers (or child processes) per version: each costs a thread or a Node process,
 *  twice over during a swap (standbys); a limit in the hundred thousands exhausted the heap. */
export const MAX_THREADS = 64;
/** The hooks take the block's size as a `uint32_t`. */
export const MAX_STATE_BYTES = 2 ** 32 - 1;
/** Node turns a longer timer into 1 ms: a larger timeout is refused, 0 means no limit. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const MAX_KEEP_BUILDS = 1000;
const MAX_CRASHES = 1000;

/**
 * Checks every option (type, range, unknown names) and fills in defaults; throws
 * ERR_INVALID_OPTIONS naming the option and what it accepts (`details.option`,
 * `details.allowed`).
 *
 * @example
 * resolveOptions({ library: './libgame.so', functions: {}, threds: 2 }); // ERR_INVALID_OPTIONS: did you mean `threads`?
 */
export function resolveOptions<F extends FunctionTable>(options: IsolatedHostOptions<F>): ResolvedOptions<F> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid('options', 'an object', options);
  }
  rejectUnknownOptions(options, OPTION_NAMES, '');
  const o = options as IsolatedHostOptions<F> & Record<string, unknown>;
  if (typeof o.library !== 'string' || o.library === '') throw invalid('library', 'a path (a non-empty string)', o.library);
  const header = optional(o.header, 'header', 'a path (a non-empty string)', (v) => typeof v === 'string' && v !== '', undefined as string | undefined);
  // with `header`, `functions` is optional: absent, every function of the header
  const functions = checkFunctions<F>(o.functions === undefined && header !== undefined ? {} : o.functions);
  const allowSignatureChange = optional(o.allowSignatureChange, 'allowSignatureChange', 'true or false', (v) => typeof v === 'boolean', false);
  const watch = optional(o.watch, 'watch', 'true or false', (v) => typeof v === 'boolean', false);
  const isolation = optional<Isolation>(o.isolation, 'isolation', "'thread' or 'process'", (v) => v === 'thread' || v === 'process', 'thread');
  const threads = integer(o.threads, 'threads', 1, 1, MAX_THREADS);
  let stateBytes = 0;
  if (o.state !== undefined) {
    if (typeof o.state !== 'object' || o.state === null || Array.isArray(o.state)) throw invalid('state', '{ bytes }', o.state);
    rejectUnknownOptions(o.state, ['bytes'], 'state.');
    stateBytes = integer(o.state.bytes, 'state.bytes', undefined, 1, MAX_STATE_BYTES);
  }
  // Each child process has its own instance of the library and only the first runs the
  // hooks, so the others would never learn where the state block is.
  if (isolation === 'process' && threads > 1 && stateBytes > 0) {
    throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `state` with `isolation: \'process\'` needs `threads: 1` (the hooks run in one process per version)',
      { option: 'threads', allowed: '1 with state in process isolation' });
  }
  const loadTimeoutMs = integer(o.loadTimeoutMs, 'loadTimeoutMs', 30_000, 0, MAX_TIMEOUT_MS);
  const tempDir = optional(o.tempDir, 'tempDir', 'a directory path (a non-empty string)', (v) => typeof v === 'string' && v !== '', undefined as string | undefined);
  return {
    library: resolve(o.library),
    functions,
    header: header === undefined ? undefined : { file: resolve(header), pick: functions, allowSignatureChange, timeoutMs: loadTimeoutMs },
    watch,
    isolation,
    threads,
    stateBytes,
    callTimeoutMs: integer(o.callTimeoutMs, 'callTimeoutMs', 0, 0, MAX_TIMEOUT_MS),
    loadTimeoutMs,
    drainTimeoutMs: integer(o.drainTimeoutMs, 'drainTimeoutMs', 10_000, 0, MAX_TIMEOUT_MS),
    hookTimeoutMs: integer(o.hookTimeoutMs, 'hookTimeoutMs', 5_000, 0, MAX_TIMEOUT_MS),
    keepBuilds: integer(o.keepBuilds, 'keepBuilds', 5, 1, MAX_KEEP_BUILDS),
    tempDir,
    libraryPath: libraryPathOf(o.libraryPath),
    fleet: fleetOf(o.fleet, watch),
    crashPolicy: crashPolicyOf(o.crashPolicy),
    onPinned: optional<OnPinned>(o.onPinned, 'onPinned', "'warn', 'refuse' or 'process'", (v) => v === 'warn' || v === 'refuse' || v === 'process', 'warn'),
  };
}

function crashPolicyOf(value: unknown): Required<CrashPolicyOptions> {
  if (value === undefined) return { max: 3, windowMs: 10_000 };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('crashPolicy', '{ max, windowMs }', value);
  rejectUnknownOptions(value, ['max', 'windowMs'], 'crashPolicy.');
  const { max, windowMs } = value as CrashPolicyOptions;
  return { max: integer(max, 'crashPolicy.max', 3, 1, MAX_CRASHES), windowMs: integer(windowMs, 'crashPolicy.windowMs', 10_000, 1, MAX_TIMEOUT_MS) };
}

/** A per-call timeout (`callWith`): an integer from 0 (no limit) to MAX_TIMEOUT_MS. */
export function checkTimeoutMs(value: unknown, option: string): number {
  return integer(value, option, undefined, 0, MAX_TIMEOUT_MS);

}

function fleetOf(value: unknown, watch: boolean): Required<FleetMemberOptions> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('fleet', "{ transport: 'cluster' | { redis, group } }", value);
  rejectUnknownOptions(value, ['transport', 'joinTimeoutMs'], 'fleet.');
  const { transport, joinTimeoutMs } = value as FleetMemberOptions;
  const redis = typeof transport === 'object' && transport !== null && !Array.isArray(transport);
  if (redis) rejectUnknownOptions(transport, ['redis', 'group'], 'fleet.transport.');
  const fits = transport === 'cluster' || (redis && typeof transport.redis === 'string' && transport.redis !== '' && typeof transport.group === 'string' && transport.group !== '');
  if (!fits) throw invalid('fleet.transport', "'cluster' or { redis: 'redis://…', group: 'name' }", transport);
  // The fleet decides what a member serves: a save on disk must not move one member alone.
  if (watch) throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `watch: true` with `fleet`: a fleet member is swapped by its fleet only (fleet.swap())', { option: 'watch', allowed: 'false with fleet' });
  return { transport, joinTimeoutMs: integer(joinTimeoutMs, 'fleet.joinTimeoutMs', 30_000, 1, MAX_TIMEOUT_MS) };
}

function libraryPathOf(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((dir) => typeof dir !== 'string' || dir === '')) {
    throw invalid('libraryPath', 'an array of directory paths', value);
  }
  return (value as string[]).map((dir) => resolve(dir));
}

function invalid(option: string, allowed: string, value: unknown): IsoswapError {
  return new IsoswapError('ERR_INVALID_OPTIONS', `invalid options: \`${option}\` must be ${allowed}, not ${show(value)}`, { option, allowed });
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'function' || typeof value === 'symbol') return `a ${typeof value}`;
  return String(value);
}

/** Names outside `known` are refused (ERR_INVALID_OPTIONS), with the closest known one when it is near. */
export function rejectUnknownOptions(object: object, known: readonly string[], prefix: string): void {
  for (const name of Object.keys(object)) {
    if (known.includes(name)) continue;
    const guess = closest(name, known);
    const near = distance(name.toLowerCase(), guess.toLowerCase()) <= Math.max(2, Math.floor(guess.length / 3));
    throw new IsoswapError('ERR_INVALID_OPTIONS',
      `invalid options: unknown option \`${prefix}${name}\`${near ? `: did you mean \`${prefix}${guess}\`?` : ''} (known: ${known.join(', ')})`,
      { option: `${prefix}${name}`, allowed: known, ...(near ? { suggestion: `${prefix}${guess}` } : {}) });
  }
}

function optional<T>(value: unknown, option: string, allowed: string, fits: (v: unknown) => boolean, fallback: T): T {
  if (value === undefined) return fallback;
  if (!fits(value)) throw invalid(option, allowed, value);
  return value as T;
}

export function integer(value: unknown, option: string, fallback: number | undefined, min: number, max: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(option, `an integer from ${min} to ${max}${min === 0 && option.endsWith('Ms') ? ' (0: no limit)' : ''}`, value);
  }
  return value;
}

/** Any name (`__proto__` too) → a prototype string; copied onto a null-prototype object. */
function checkFunctions<F extends FunctionTable>(functions: unknown): F {
  if (typeof functions !== 'object' || functions === null || Array.isArray(functions)) {
    throw invalid('functions', 'an object mapping call names to prototypes', functions);
  }
  const table = Object.create(null) as Record<string, string>;
  for (const [name, prototype] of Object.entries(functions)) {
    if (typeof prototype !== 'string' || prototype.trim() === '') throw invalid(`functions.${name}`, 'a prototype string', prototype);
    table[name] = prototype;
  }
  return table as F;
}
