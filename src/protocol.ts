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
}

/** What a worker found in the version it loaded. */
export interface LoadReport {
  hooks: { load: boolean; unload: boolean };
  /** Call names, in the order the fast channel numbers them. */
  functions: string[];
}

/** The service every version runtime exposes (over comlink). */
export interface LibraryServiceApi {
  load(request: LoadRequest): LoadReport;
  call(name: string, args: unknown[]): unknown;
  runLoadHook(): number;
  runUnloadHook(): boolean;
  unload(): void;
}
