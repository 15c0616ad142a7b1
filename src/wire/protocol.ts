import type { AddonExportsReport } from './addon-wire.js';

/**
 * What crosses between the host and the code that runs a version (worker thread or
 * child process). Both runtimes speak it; only the transport differs.
 */

/** Where the state block lives, as the worker must be told. */
export type StateRef =
  | { kind: 'shared'; buffer: SharedArrayBuffer }          // thread isolation: the same memory
  | { kind: 'memfd'; fd: number; bytes: number }            // process isolation: a memfd (host's fd) every child inherits
  | { kind: 'named'; name: string; bytes: number };         // process isolation on Windows: a file mapping every child opens by name

/** Asks a worker to load one version. */
export interface LoadRequest {
  /** The path the user named, for messages. */
  library: string;
  /** The private copy to `dlopen`. */
  copy: string;
  /** Call name → koffi prototype. */
  functions: Record<string, string>;
  /** Libraries to dlopen first, by absolute path (dependencies found in `libraryPath`). */
  preload?: string[] | undefined;
  /** The `libraryPath` option, to say where a missing dependency was looked for. */
  libraryPath?: string[] | undefined;
  state?: StateRef | undefined;
  /** Host side only: how long the load may take before the runtime is ended (0: no limit).
   *  A library constructor that never returns must not hold every later swap and close(). */
  timeoutMs?: number | undefined;
  /** Thread isolation: the shared-memory call channel of this worker (src/transport/ring-layout.ts). */
  channel?: SharedArrayBuffer | undefined;
  /** Process isolation: serve the call ring the child inherited (src/transport/process-ring.ts). */
  processRing?: boolean | undefined;
  /** The `isoswap_state` section, from the file's section headers (src/library/state-section.ts). */
  section?: SectionRef | undefined;
  /** Thread isolation: the name (prctl PR_SET_NAME, at most 15 bytes) the worker thread
   *  takes before dlopen, so that the threads the library starts inherit it. */
  threadName?: string | undefined;
  /** A Node-API addon: `process.dlopen` of the copy, its exported functions served
   *  (src/runtime/addon-service.ts); `functions` and `section` are then unused. */
  addon?: boolean | undefined;
  /** An addon's `process.dlopen` flags (os.constants.dlopen); absent: Node's default. */
  dlopenFlags?: number | undefined;
  /** A package entry to run instead (createAddonHost({ module })): its `require` of
   *  `library` loads `copy`, of any other `.node` a copy the worker makes
   *  (src/runtime/addon-module.ts). */
  module?: string | undefined;
}

/** Where the `isoswap_state` section is, relative to the library's load base. */
export interface SectionRef {
  vaddr: number;
  size: number;
}

/** What `isoswap_load_ex` is told (struct isoswap_info in native/include/isoswap.h). */
export interface LoadInfo {
  version: number;
  reason: number;
  failure: number;
  previous: number;
}

/**
 * The hand-over's steps as reserved call names, so that they travel the blocking call
 * paths (sync port, sync pipe) a blocked `callSync` can read; no declared function can
 * have these names.
 */
export const SYNC_OP = {
  loadHook: '\0isoswap.loadHook',
  unloadHook: '\0isoswap.unloadHook',
  readSection: '\0isoswap.readSection',
  writeSection: '\0isoswap.writeSection',
  /** Sent on the message path behind the calls in flight: answered on the blocking path
   *  once the worker reaches it, i.e. once the calls sent before it have run. */
  mark: '\0isoswap.mark',
  /** A LoadRequest on the blocking path: the restart of a crashed version, driven by a
   *  blocked callSync (process isolation; src/host/crash-restart.ts). */
  load: '\0isoswap.load',
  /** A call with `_Out_`/`_Inout_` buffers on a message path: args `[name, args,
   *  positions]`; answers `{ value, out }`, the bytes of each position's copy after the
   *  call (src/transport/copy-back.ts). */
  callOut: '\0isoswap.callOut',
} as const;

/** How a mark is answered on the blocking path (never the answer to a call). */
export interface MarkReply {
  isoswapMark: number;
}

/** True for the answer to a mark: a blocking reader skips marks it did not wait for. */
export function isMark(reply: SyncReply): reply is { ok: true; value: MarkReply } {
  return reply.ok && typeof (reply.value as MarkReply | null)?.isoswapMark === 'number';
}

/**
 * One parameter of a prototype, as the host checks the argument passed for it (from
 * koffi's `fn.info`, reported at load): an integer of `bits` and sign, a floating-point
 * number, a bool, a C string, a pointer (`ref`: what it points to, `direction`: `_Out_`,
 * `_Inout_`), a callback, or a struct/union/array passed by value.
 */
export type ParamType =
  | { kind: 'int'; name: string; bits: number; signed: boolean }
  | { kind: 'float' | 'bool' | 'string' | 'callback'; name: string }
  | { kind: 'pointer'; name: string; ref: 'record' | 'other'; direction: 'Input' | 'Output' | 'InputOutput' }
  | { kind: 'record' | 'array'; name: string };

/** How a value travels in a ring slot (src/transport/ring-codec.ts): `number` as a float64;
 *  `int64` as a float64 or a 64-bit BigInt; `string` as UTF-8 in the call's arena; a
 *  `pointer` as a view over shared memory or a copy in the arena (`pointer-out`: an
 *  `_Out_`/`_Inout_` one, whose copy comes back). */
export type FastArgKind = 'number' | 'int64' | 'bool' | 'string' | 'pointer' | 'pointer-out';
export type FastResultKind = 'number' | 'int64' | 'bool' | 'string' | 'void';

/** A function whose arguments and result the ring carries: it may be called over the
 *  shared-memory channel instead of a message. */
export interface FastSignature {
  args: FastArgKind[];
  result: FastResultKind;
  /** An addon's export: no prototype, so each argument and the result carry their own tag
   *  (src/transport/ring-values.ts); `args` and `result` are unused. */
  tagged?: true | undefined;
}

/** What a worker found in the version it loaded. */
export interface LoadReport {
  hooks: { load: boolean; unload: boolean };
  /** The size of the `isoswap_state` section found at load, and whether the library
   *  accepts the common prefix when that size changes (`isoswap_state_prefix_ok`). */
  section: { bytes: number; prefixOk: boolean } | null;
  /** Call names, in the order the fast channel numbers them. */
  functions: string[];
  /** Call name → how many arguments its prototype takes (variadic functions are absent):
   *  koffi silently drops extra arguments, so the host checks the count. */
  arity: Record<string, number>;
  /** Call name → the types of its fixed parameters, for the host's argument check. */
  params: Record<string, ParamType[]>;
  /** Thread isolation: the name the worker threads took (LoadRequest.threadName) and
   *  their kernel thread ids (one per worker, gathered by the host). */
  threadName?: string | undefined;
  tids?: number[] | undefined;
  /** Host side, thread isolation: this load among the process's loads (guest-threads.ts
   *  markLoad), so that threads a guest started and renamed (tokio does) are told apart. */
  loadMark?: number | undefined;
  /** A package (LoadRequest.module): the `.node` files its entry loaded, as named. */
  loadedAddons?: string[] | undefined;
  /** Call name → its signature, for the functions the fast channel can call (decided from
   *  the koffi prototype at load time); absent when no channel was offered. */
  fast?: Record<string, FastSignature> | undefined;
  /** A Node-API addon: what its `module.exports` holds (src/wire/addon-wire.ts). */
  exports?: AddonExportsReport | undefined;
}

/** The service every version runtime exposes (over comlink). */
export interface LibraryServiceApi {
  load(request: LoadRequest): LoadReport;
  call(name: string, args: unknown[]): unknown;
  runLoadHook(info?: LoadInfo): number;
  runUnloadHook(): boolean;
  unload(): void;
}

/** The answer to one blocking call (callSync), on a port (thread) or a pipe (process). */
export type SyncReply = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Thread isolation: the global symbol (`Symbol.for`) under which a worker's boot script
 *  (src/runtime/thread/code-cache.ts) leaves the function that makes its bundle's V8 code
 *  cache, for the worker entry's `codeCache`. */
export const CODE_CACHE_KEY = 'isoswap.codeCache';
