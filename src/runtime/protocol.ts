/**
 * What crosses between the host and the code that runs a version (worker thread or
 * child process). Both runtimes speak it; only the transport differs.
 */

/** Where the state block lives, as the worker must be told. */
export type StateRef =
  | { kind: 'shared'; buffer: SharedArrayBuffer }          // thread isolation: the same memory
  | { kind: 'file'; path: string; bytes: number };          // process isolation: a /dev/shm file both map

/** Asks a worker to load one version. */
export interface LoadRequest {
  /** The path the user named, for messages. */
  library: string;
  /** The private copy to `dlopen`. */
  copy: string;
  /** Call name → koffi prototype. */
  functions: Record<string, string>;
  state?: StateRef | undefined;
  /** Host side only: how long the load may take before the runtime is ended (0: no limit).
   *  A library constructor that never returns must not hold every later swap and close(). */
  timeoutMs?: number | undefined;
  /** Thread isolation: the shared-memory call channel of this worker (src/transport/ring-layout.ts). */
  channel?: SharedArrayBuffer | undefined;
  /** The `isoswap_state` section, from the file's section headers (src/library/state-section.ts). */
  section?: SectionRef | undefined;
  /** A Node-API addon: `process.dlopen` of the copy, its exported functions served
   *  (src/runtime/addon-service.ts); `functions` and `section` are then unused. */
  addon?: boolean | undefined;
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
} as const;

/** How a mark is answered on the blocking path (never the answer to a call). */
export interface MarkReply {
  isoswapMark: number;
}

/** True for the answer to a mark: a blocking reader skips marks it did not wait for. */
export function isMark(reply: SyncReply): reply is { ok: true; value: MarkReply } {
  return reply.ok && typeof (reply.value as MarkReply | null)?.isoswapMark === 'number';
}

/** How a value travels in a channel slot: a float64 each way, decoded by kind. */
export type FastArgKind = 'number' | 'bool' | 'state-pointer';
export type FastResultKind = 'number' | 'bool' | 'void';

/** A function whose arguments and result are numbers (or pointers into the state block):
 *  it may be called over the shared-memory channel instead of a message. */
export interface FastSignature {
  args: FastArgKind[];
  result: FastResultKind;
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
  /** Call name → its signature, for the functions the fast channel can call (decided from
   *  the koffi prototype at load time); absent when no channel was offered. */
  fast?: Record<string, FastSignature> | undefined;
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
