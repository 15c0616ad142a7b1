import { resolve } from 'node:path';
import { IsoswapError } from './errors.js';

/** Call name → koffi prototype, e.g. `{ do_tick: 'int32_t do_tick(int32_t)' }`. */
export type FunctionTable = Record<string, string>;

export type Isolation = 'thread' | 'process';

/** Options of {@link createIsolatedHost}. */
export interface IsolatedHostOptions<F extends FunctionTable = FunctionTable> {
  /** The shared library to serve (a path; relative paths are taken from the cwd). */
  library: string;
  /** The functions to declare: call name → koffi prototype. */
  functions: F;
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
  /** How long a retiring version may take to finish its calls in flight. Default 10000. */
  drainTimeoutMs?: number;
  /** How long a hook may take: isoswap_load, isoswap_unload, a `beforeSwap` listener.
   *  0: no limit. Default 5000. */
  hookTimeoutMs?: number;
  /** How many earlier good builds keep their bytes for rollback(). Default 5. */
  keepBuilds?: number;
  /** Where the private copies directory is made. Default os.tmpdir(). */
  tempDir?: string;
  /** Directories where the library's own dependencies are looked up (`isoswap run
   *  --lib-path`). */
  libraryPath?: string[];
}

export interface ResolvedOptions<F extends FunctionTable = FunctionTable> {
  library: string;
  functions: F;
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
  /** Serve a Node-API addon's exports instead of `functions` (src/addon/). */
  addon?: boolean;
}

/** Checks the options and fills in defaults; throws ERR_INVALID_OPTIONS. */
export function resolveOptions<F extends FunctionTable>(options: IsolatedHostOptions<F>): ResolvedOptions<F> {
  const bad = (why: string): never => { throw new IsoswapError('ERR_INVALID_OPTIONS', `invalid options: ${why}`); };
  if (typeof options !== 'object' || options === null) bad('expected an object');
  if (typeof options.library !== 'string' || options.library === '') bad('`library` must be a path');
  if (typeof options.functions !== 'object' || options.functions === null) bad('`functions` must map names to prototypes');
  for (const [name, proto] of Object.entries(options.functions)) {
    if (typeof proto !== 'string') bad(`the prototype of ${name} must be a string`);
  }
  const isolation = options.isolation ?? 'thread';
  if (isolation !== 'thread' && isolation !== 'process') bad(`isolation must be 'thread' or 'process', not ${String(isolation)}`);
  const count = (value: number | undefined, name: string, fallback: number, min: number): number => {
    const n = value ?? fallback;
    if (!Number.isInteger(n) || n < min) bad(`\`${name}\` must be an integer >= ${min}`);
    return n;
  };
  // Each child process has its own instance of the library and only the first runs the
  // hooks, so the others would never learn where the state block is.
  if (isolation === 'process' && (options.threads ?? 1) > 1 && options.state !== undefined) {
    bad('`state` with `isolation: \'process\'` needs `threads: 1` (the hooks run in one process per version)');
  }
  return {
    library: resolve(options.library),
    functions: options.functions,
    watch: options.watch ?? false,
    isolation,
    threads: count(options.threads, 'threads', 1, 1),
    stateBytes: options.state === undefined ? 0 : count(options.state.bytes, 'state.bytes', 0, 1),
    callTimeoutMs: count(options.callTimeoutMs, 'callTimeoutMs', 0, 0),
    loadTimeoutMs: count(options.loadTimeoutMs, 'loadTimeoutMs', 30_000, 0),
    drainTimeoutMs: count(options.drainTimeoutMs, 'drainTimeoutMs', 10_000, 0),
    hookTimeoutMs: count(options.hookTimeoutMs, 'hookTimeoutMs', 5_000, 0),
    keepBuilds: count(options.keepBuilds, 'keepBuilds', 5, 1),
    tempDir: options.tempDir,
  };
}
