import { IsoswapError, swapInProgress } from '../errors.js';
import type { HostEmitter } from '../events.js';
import { awaited, blocking, type Steps } from '../procedure.js';
import { Deadline } from '../transport/blocking-wait.js';
import type { Version } from '../version/version.js';
import type { VersionFactory } from '../version/version-factory.js';
import type { HeldWork, RecoveringQueue } from './swap-contract.js';

/** What a restart needs besides the queue: where versions come from, the deadlines. */
export interface CrashRestartContext {
  queue: RecoveringQueue;
  versions: VersionFactory;
  host: HostEmitter;
  drainTimeoutMs: number;
  hookTimeoutMs: number;
  /** False in a fleet member: only the fleet rolls back; a build that keeps crashing
   *  stays crashed (its calls reject) and the fleet is told. */
  rollsBack: boolean;
}

/**
 * The recovery from one crash of the serving version, while calls are held: start its
 * build again (`restart`, as CrashPolicy decided), and if that fails, or was not to be
 * tried, roll back; with neither, the crashed version stays and calls reject.
 *
 * Two drivers, whichever comes first, run the same steps ({@link #steps}): `run()`, queued
 * on the event loop, or `runBlocked()` from a `callSync` that found calls held, whose
 * thread is blocked (a game loop that never yields would otherwise never see the
 * restart). The blocking driver loads over the blocking paths (process isolation) and
 * hands over in one synchronous block; `run()` then finds it done. Each step is recorded,
 * so that whichever driver goes on never repeats one (one restart, one report).
 */
export class CrashRestart implements HeldWork {
  #step: 'restart' | 'rollback' | 'done';
  /** The event loop has begun a step: its loads answer there, not on a blocking path. */
  #onEventLoop = false;
  /** A blocking driver ran past its bound: the event loop does the rest. */
  #gaveUp = false;
  /** A blocking driver runs: a callSync from one of its listeners (swap, error) must not
   *  start the steps again. */
  #driving = false;
  /** Lets the queue's callSync find this restart no more. */
  readonly #unheld: () => void;

  constructor(
    private readonly ctx: CrashRestartContext,
    private readonly crashed: Version,
    private readonly bytes: Buffer | null,
    restart: boolean,
    private readonly failure: number,
    private readonly release: () => void,
  ) {
    this.#step = restart && bytes !== null ? 'restart' : 'rollback';
    this.#unheld = ctx.queue.holdFor(this);
  }

  /** On the event loop, after the swaps queued before it. */
  async run(): Promise<void> {
    const { queue } = this.ctx;
    try {
      if (this.#step === 'done' || queue.closed || queue.current !== this.crashed) return;
      this.#onEventLoop = true;
      await awaited(this.#steps(null));
    } finally {
      this.#end();
    }
  }

  /**
   * From a blocked callSync: the steps left, over the blocking paths, within the swap's
   * own deadlines (drainTimeoutMs + hookTimeoutMs; none when either is 0). Throws
   * ERR_SWAP_IN_PROGRESS past them (the event loop then goes on), and at once where it
   * cannot drive the restart: thread isolation, or a step the event loop has begun.
   */
  runBlocked(what: string): void {
    if (this.#step === 'done') return;
    const { queue, versions, drainTimeoutMs, hookTimeoutMs } = this.ctx;
    if (queue.current !== this.crashed) return this.#end(); // a swap queued before the crash replaced it
    if (!versions.canLoadBlocking) throw swapInProgress(what, `crashed version ${this.crashed.id} is being loaded again, which in thread isolation needs the event loop`);
    if (this.#onEventLoop || this.#gaveUp) throw swapInProgress(what, `crashed version ${this.crashed.id} is being loaded again on the event loop`);
    if (this.#driving) throw swapInProgress(what, `crashed version ${this.crashed.id} is being loaded again by the callSync this one was made under`);
    const boundMs = hookTimeoutMs === 0 || drainTimeoutMs === 0 ? 0 : drainTimeoutMs + hookTimeoutMs;
    const deadline = new Deadline(what, boundMs);
    this.#driving = true;
    try {
      blocking(this.#steps(deadline));
    } catch (err) {
      if (!deadline.passed) throw err;
      this.#gaveUp = true; // what this driver loaded is discarded; the event loop starts the step again
      throw new IsoswapError('ERR_SWAP_IN_PROGRESS',
        `${what}: crashed version ${this.crashed.id} of ${this.crashed.artifact.library} was not loaded again within drainTimeoutMs + hookTimeoutMs (${boundMs} ms); ` +
        'the event loop goes on with it (await host.call waits)', { version: this.crashed.id, timeoutMs: boundMs });
    } finally {
      this.#driving = false;
      if (this.#done) this.#end();
    }
  }

  /** Restart, else roll back; a blocking driver's `deadline` bounds both, and once it has
   *  passed, the step is left to the event loop instead of reported as failed. */
  *#steps(deadline: Deadline | null): Steps<void> {
    const { queue } = this.ctx;
    const options = { onServing: this.release, failure: this.failure, deadline };
    if (this.#step === 'restart') {
      try {
        yield* queue.swap({ bytes: this.bytes!, functions: this.crashed.functions }, 'restart', { ...options, sourceId: this.crashed.id });
        this.#step = 'done';
        return;
      } catch (err) {
        if (deadline?.passed === true) throw err;
        this.#step = 'rollback';
        this.#report(err, `restarting version ${this.crashed.id}`);
      }
    }
    this.crashed.status = 'failed';
    if (!this.ctx.rollsBack) {
      this.#step = 'done';
      return;
    }
    try {
      yield* queue.rollback(options);
    } catch (err) {
      if (deadline?.passed === true) throw err;
      this.#report(err, 'rolling back');
    }
    this.#step = 'done';
  }

  get #done(): boolean {
    return this.#step === 'done';
  }

  #report(err: unknown, what: string): void {
    this.ctx.host.reportError(IsoswapError.from(err, 'ERR_VERSION_CRASHED', what));
  }

  /** Calls pass again: to the version that serves now, or to the crashed one, and reject. */
  #end(): void {
    this.#step = 'done';
    this.#unheld();
    this.release();
  }
}
