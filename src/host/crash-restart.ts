import { IsoswapError, swapInProgress } from '../errors.js';
import type { HostEmitter } from '../events.js';
import type { FunctionTable } from '../options.js';
import { Deadline } from '../transport/blocking-wait.js';
import type { Version } from '../version/version.js';
import type { VersionFactory } from '../version/version-factory.js';
import type { SwapQueue } from './swap-queue.js';

/** What a restart needs besides the queue: where versions come from, the deadlines. */
export interface CrashRestartContext {
  queue: SwapQueue;
  versions: VersionFactory;
  host: HostEmitter;
  drainTimeoutMs: number;
  hookTimeoutMs: number;
}

/**
 * The recovery from one crash of the serving version, while calls are held: start its
 * build again (`restart`, as CrashPolicy decided), and if that fails, or was not to be
 * tried, roll back; with neither, the crashed version stays and calls reject.
 *
 * Two drivers, whichever comes first, as for a HandOver: `run()`, queued on the event
 * loop, or `runSync()` from a `callSync` that found calls held, whose thread is blocked
 * (a game loop that never yields would otherwise never see the restart). The blocking
 * driver loads over the blocking paths (VersionFactory.loadSync, process isolation) and
 * hands over in one synchronous block; `run()` then finds it done. Each step is recorded,
 * so that whichever driver goes on never repeats one (one restart, one report).
 *
 * @example
 * const restart = new CrashRestart(ctx, crashed, bytes, true, failure, release);
 * void queue.enqueue(() => restart.run()); // and in callSync: restart.runSync('callSync do_tick')
 */
export class CrashRestart {
  #step: 'restart' | 'rollback' | 'done';
  /** The event loop has begun a step: its loads answer there, not on a blocking path. */
  #onEventLoop = false;
  /** A blocking driver ran past its bound: the event loop does the rest. */
  #gaveUp = false;
  /** A blocking driver runs: a callSync from one of its listeners (swap, error) must not
   *  start the steps again. */
  #driving = false;

  constructor(
    private readonly ctx: CrashRestartContext,
    private readonly crashed: Version,
    private readonly bytes: Buffer | null,
    restart: boolean,
    private readonly failure: number,
    private readonly release: () => void,
  ) {
    this.#step = restart && bytes !== null ? 'restart' : 'rollback';
    ctx.queue.recovery = this;
  }

  /** On the event loop, after the swaps queued before it. */
  async run(): Promise<void> {
    const { queue } = this.ctx;
    try {
      if (this.#step === 'done' || queue.closed || queue.current !== this.crashed) return;
      this.#onEventLoop = true;
      if (this.#step === 'restart') {
        try {
          await queue.swap({ bytes: this.bytes!, functions: this.crashed.functions }, 'restart', this.crashed.id, this.release, this.failure);
          return;
        } catch (err) {
          this.#restartFailed(err);
        }
      }
      this.crashed.status = 'failed';
      await queue.rollback(this.release, this.failure).catch((err) => this.#report(err, 'rolling back'));
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
  runSync(what: string): void {
    if (this.#step === 'done') return;
    const { queue, versions, drainTimeoutMs, hookTimeoutMs } = this.ctx;
    if (queue.current !== this.crashed) return this.#end(); // a swap queued before the crash replaced it
    if (!versions.canLoadSync) throw swapInProgress(what, `crashed version ${this.crashed.id} is being loaded again, which in thread isolation needs the event loop`);
    if (this.#onEventLoop || this.#gaveUp) throw swapInProgress(what, `crashed version ${this.crashed.id} is being loaded again on the event loop`);
    if (this.#driving) throw swapInProgress(what, `crashed version ${this.crashed.id} is being loaded again by the callSync this one was made under`);
    const started = performance.now();
    const boundMs = hookTimeoutMs === 0 || drainTimeoutMs === 0 ? 0 : drainTimeoutMs + hookTimeoutMs;
    const deadline = new Deadline(what, boundMs);
    this.#driving = true;
    try {
      if (this.#step === 'restart') {
        try {
          this.#swapSync(this.bytes!, this.crashed.functions, this.crashed.id, 'restart', started, deadline);
          return;
        } catch (err) {
          if (deadline.passed) throw err;
          this.#restartFailed(err);
        }
      }
      this.crashed.status = 'failed';
      try {
        const target = queue.rollbackTarget();
        this.#swapSync(target.artifact.bytes!, target.functions, target.id, 'rollback', started, deadline);
      } catch (err) {
        if (deadline.passed) throw err;
        this.#report(err, 'rolling back');
      }
      this.#step = 'done';
    } catch (err) {
      if (!deadline.passed) throw err;
      this.#gaveUp = true; // what this driver loaded is discarded; the event loop starts the step again
      throw new IsoswapError('ERR_SWAP_IN_PROGRESS',
        `${what}: crashed version ${this.crashed.id} of ${this.crashed.artifact.library} was not loaded again within drainTimeoutMs + hookTimeoutMs (${boundMs} ms); ` +
        'the event loop goes on with it (await host.call waits)', { version: this.crashed.id, timeoutMs: boundMs });
    } finally {
      this.#driving = false;
      if (this.#step === 'done') this.#end();
    }
  }

  /** Loads the build over the blocking paths and serves it; each hook within hookTimeoutMs
   *  and what is left of `deadline`. */
  #swapSync(bytes: Buffer, functions: FunctionTable, sourceId: number, reason: 'restart' | 'rollback', started: number, deadline: Deadline): void {
    const { queue, versions, hookTimeoutMs } = this.ctx;
    const next = versions.loadSync({ bytes, functions }, sourceId, deadline.stepMs());
    let stepMs: number;
    try {
      stepMs = deadline.stepMs();
    } catch (err) {
      void queue.discard(next);
      throw err;
    }
    queue.swapSync(next, reason, started, this.release, this.failure, stepMs === 0 ? hookTimeoutMs : Math.min(stepMs, hookTimeoutMs));
    this.#step = 'done';
  }

  #restartFailed(err: unknown): void {
    this.#step = 'rollback';
    this.#report(err, `restarting version ${this.crashed.id}`);
  }

  #report(err: unknown, what: string): void {
    this.ctx.host.reportError(IsoswapError.from(err, 'ERR_VERSION_CRASHED', what));
  }

  /** Calls pass again: to the version that serves now, or to the crashed one, and reject. */
  #end(): void {
    this.#step = 'done';
    if (this.ctx.queue.recovery === this) this.ctx.queue.recovery = null;
    this.release();
  }
}
