import type { IsoswapError } from '../errors.js';
import type { LoadInfo, LoadReport } from '../wire/protocol.js';
import type { Deadline } from '../transport/blocking-wait.js';

/**
 * What the host needs from the thing that runs one version: a pool of worker threads,
 * or a child process. Each runtime lives in its own file beside the worker code it drives.
 */
export interface VersionRuntime {
  readonly report: LoadReport;
  /** Runs one call. Rejects with ERR_VERSION_CRASHED when the runtime dies under it. */
  call(name: string, args: unknown[]): Promise<unknown>;
  /** The blocking form, where the runtime has one; otherwise undefined. Throws
   *  ERR_CALL_TIMEOUT after `timeoutMs` (0: no limit). */
  readonly callSync: ((name: string, args: unknown[], timeoutMs?: number) => unknown) | undefined;
  runLoadHook(info?: LoadInfo): Promise<number>;
  /** A hand-over step (protocol.ts SYNC_OP) on the blocking path; ERR_CALL_TIMEOUT after
   *  `timeoutMs` (0: none). */
  hookSync(op: string, args: unknown[], timeoutMs: number): unknown;
  writeSectionSync(bytes: Uint8Array, timeoutMs: number): void;
  /** Blocks until every call sent so far has run; ERR_CALL_TIMEOUT at `deadline`. */
  settleSync(deadline: Deadline): void;
  runUnloadHook(): Promise<boolean>;
  /** dlclose, then end every worker or process; resolves once they are gone. */
  shutdown(): Promise<void>;
  /** Ends at once, without unload: for a runtime that hangs or already crashed. Calls
   *  still pending reject with `reason` (default ERR_VERSION_CRASHED). */
  kill(reason?: IsoswapError): Promise<void>;
  /** Lets the program exit although the runtime never ended (a worker thread gone by
   *  pthread_exit: nothing can ever join it). */
  abandon(): void;
  /** Called once when a worker or the process dies on its own. */
  onCrash(listener: (error: IsoswapError) => void): void;
  /** Called for what a call could not do although it resolved (ERR_BUFFER_LOST). */
  onWarning(listener: (error: IsoswapError) => void): void;
}
