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
}

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
}

/** What a worker found in the version it loaded. */
export interface LoadReport {
  hooks: { load: boolean; unload: boolean };
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
  runLoadHook(): number;
  runUnloadHook(): boolean;
  unload(): void;
}

/** The answer to one blocking call (callSync), on a port (thread) or a pipe (process). */
export type SyncReply = { ok: true; value: unknown } | { ok: false; error: unknown };
