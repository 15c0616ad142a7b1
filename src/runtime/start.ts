import type { Isolation } from '../options.js';
import type { LoadRequest } from '../wire/protocol.js';
import type { ChildExtras } from '../wire/inherited-fds.js';
import type { ChildProcessHandle } from './process/child-process-handle.js';
import { ProcessRuntime, processStandby } from './process/process-runtime.js';
import type { Standby } from './standby.js';
import type { ThreadWorkerHandle } from './thread/thread-worker-handle.js';
import { ThreadRuntime, threadStandby } from './thread/thread-runtime.js';
import { RingPool } from '../transport/ring-pool.js';
import type { VersionRuntime } from './types.js';
import { awaitOnly, onEventLoop, type Steps } from '../procedure.js';
import { platform } from '../platform/platform.js';

/** How long after the first version serves its standby starts (a reload before then
 *  starts a runtime itself, as one back to back does). */
export const FIRST_STANDBY_DELAY_MS = 250;
/** How long after a later load its replacement standby starts: after the new version's
 *  first calls (a frame), well within the time a standby has before the next save. */
const REFILL_DELAY_MS = 20;

/**
 * Starts the runtimes of one host (thread or process isolation, `threads` workers or
 * children each) and owns their warm standby: workers or children started ahead, taken by
 * a load and replaced after it.
 */
export class RuntimeFactory {
  readonly #start: (request: LoadRequest, timeoutMs: number) => Steps<VersionRuntime>;
  /** Process isolation on Linux (the blocking pipes): a blocked host can start a runtime. */
  readonly #startsBlocking: boolean = false;
  readonly #standby: Standby<ThreadWorkerHandle> | Standby<ChildProcessHandle>;
  /** Loads running now: the standby is refilled only when none is (Standby.refill). */
  #loading = 0;
  /** No load has finished yet: the first standby waits {@link FIRST_STANDBY_DELAY_MS}. */
  #first = true;
  /** The standby's refill, due after the last load. */
  #refill: NodeJS.Timeout | null = null;

  /** @param extras what each child process inherits (process isolation) */
  constructor(isolation: Isolation, threads: number, extras: ChildExtras = {}) {
    if (isolation === 'thread') {
      const rings = new RingPool();
      const standby = threadStandby(threads, rings);
      this.#standby = standby;
      this.#start = awaitOnly('starting a worker thread', (request: LoadRequest) => ThreadRuntime.start(request, threads, standby, rings));
    } else {
      const standby = processStandby(threads, extras);
      this.#standby = standby;
      this.#start = (request, timeoutMs) => ProcessRuntime.start(request, threads, standby, timeoutMs);
      this.#startsBlocking = platform().inheritedChannels || platform().namedChannels;
    }
  }

  /** Starts the runtime the next {@link start} takes, unless one waits or is starting: a
   *  load still preparing its request (hashing, copying) overlaps the runtime's boot. A
   *  blocked host starts none ahead: it takes a settled child or forks one at its start. */
  *prestart(): Steps<void> {
    if (yield* onEventLoop()) this.#standby.prestart();
  }

  /** Loads a version into a runtime (pre-started ones first); throws a typed load error.
   *  A blocking driver (only where {@link canStartBlocking}) loads within `timeoutMs`
   *  (0: none; past it ERR_CALL_TIMEOUT). */
  *start(request: LoadRequest, timeoutMs = 0): Steps<VersionRuntime> {
    this.#loading++;
    try {
      return yield* this.#start(request, timeoutMs);
    } finally {
      this.#loaded();
    }
  }

  /** Whether a blocked host can {@link start} a runtime (process isolation). */
  get canStartBlocking(): boolean {
    return this.#startsBlocking;
  }

  /**
   * Schedules the standby's refill after a load. After the first one it waits longer: a
   * program's start is its busiest moment (its own set-up, its first frames), and a host
   * closed within it (a CLI command, a test) would have started the standby (a thread's
   * or a Node process's start, the costliest step of a swap) for nothing. After a later one
   * it waits a little: a thread or Node starting beside the rest of the swap slowed the
   * swap and, on the next turn, the new version's first calls (docs/performance.md). A load started
   * meanwhile (reloads back to back) refills after it instead: never two starts at once.
   */
  #loaded(): void {
    this.#loading--;
    const delayMs = this.#first ? FIRST_STANDBY_DELAY_MS : REFILL_DELAY_MS;
    this.#first = false;
    if (this.#refill !== null) clearTimeout(this.#refill);
    this.#refill = setTimeout(() => {
      this.#refill = null;
      if (this.#loading === 0) this.#standby.refill();
    }, delayMs).unref();
  }

  /** Runtimes started so far (standby included), and the most ever starting at once. */
  get stats(): { started: number; maxStarting: number } {
    return this.#standby.stats;
  }

  /** Ends the standby. */
  close(): Promise<void> {
    if (this.#refill !== null) clearTimeout(this.#refill);
    return this.#standby.close();
  }
}
