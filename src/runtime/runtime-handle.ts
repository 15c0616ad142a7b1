import type { IsoswapError } from '../errors.js';
import type { Deadline } from '../transport/blocking-wait.js';
import type { LostBytes } from '../transport/copy-back.js';
import type { LibraryServiceApi } from '../wire/protocol.js';
import type { Remote } from './rpc.js';

/** The path a host blocked in callSync can read: a sync port (thread) or pipes (process). */
export interface BlockingPath {
  call(name: string, args: unknown[], timeoutMs?: number): unknown;
  awaitMark(seq: number, deadline: Deadline): void;
}

let lastMark = 0;
/** A number for the next mark, unique in this host process. */
export const nextMark = (): number => (lastMark = (lastMark + 1) | 0);

/** One worker thread or one child process, as a runtime pool drives it. */
export interface RuntimeHandle {
  /** 'worker' or 'process', for messages. */
  readonly kind: string;
  label: string;
  readonly alive: boolean;
  /** Resolves once the runtime has started (Node booted, koffi imported) and answers. */
  readonly ready: Promise<void>;
  /** Calls in flight on it. */
  readonly busy: number;
  /** A standby must not keep the program alive; one that serves must. */
  ref(): void;
  unref(): void;
  onCrash(listener: (error: IsoswapError) => void): void;
  readonly syncCall: BlockingPath;
  /** The shared-memory ring, where there is one. */
  readonly channel: { onLost: LostBytes | undefined } | null;
  /** Blocks until every call sent to it so far has run: a swap's drain, driven by a host
   *  blocked in callSync (whose event loop cannot see the answers). */
  settleSync(deadline: Deadline): void;
  /** Sends one request; rejects with ERR_VERSION_CRASHED if it dies first. */
  request<T>(send: (remote: Remote<LibraryServiceApi>) => Promise<T>): Promise<T>;
  /** Unload, then end; resolves once it is gone. */
  stop(): Promise<void>;
  /** End now; requests pending reject with `reason`. */
  kill(reason?: IsoswapError): Promise<void>;
}
