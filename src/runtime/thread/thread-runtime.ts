import { loaderFree, loaderHeld } from '../../library/loader-sweep.js';
import { NOT_FAST } from '../../transport/call-channel.js';
import type { RingPool } from '../../transport/ring-pool.js';
import type { LoadRequest } from '../../wire/protocol.js';
import { loadAll, PooledRuntime } from '../pooled-runtime.js';
import { awaited, awaitOnly } from '../../procedure.js';
import { Standby } from '../standby.js';
import { ThreadWorkerHandle } from './thread-worker-handle.js';
import { hasCodeCache, keepCodeCache, takeServingCodeCache } from './code-cache.js';
import type { VersionRuntime } from '../types.js';
import { platform } from '../../platform/platform.js';

/** What a standby worker loads once to warm up: the C library, already in every process
 *  (dlopen only counts a reference), with functions that take the ring, on the worker's own
 *  ring (a ring made for it would be garbage after every swap). On a system without it the
 *  load fails, harmlessly: the worker is just not warmed. */
const rehearsal = (worker: ThreadWorkerHandle): LoadRequest => ({
  library: 'standby rehearsal', copy: platform().cLibrary,
  functions: { abs: 'int abs(int)', strlen: 'size_t strlen(const char *)' }, channel: worker.channel.buffer,
  threadName: 'isw-standby', // declares prctl ahead: the real load names the thread again
});

/**
 * Pre-started worker threads for the next swap.
 */
export function threadStandby(size: number, rings?: RingPool): Standby<ThreadWorkerHandle> {
  // No thread starts while a guest may hold the loader lock: its koffi import would wait.
  return new Standby(size, () => new ThreadWorkerHandle(rings), (worker) => {
    // A rehearsal: load and unload a library that is always there, so that the swap
    // taking this worker runs warm code on both sides (a first load is the slowest; see
    // docs/performance.md). All are sent now: the worker runs messages in order, so a real
    // load sent later can never be unloaded by the rehearsal.
    const loaded = worker.request((r) => r.load(rehearsal(worker))).catch(() => {});
    void worker.request((r) => r.runLoadHook()).catch(() => {});
    const unloaded = worker.request((r) => r.unload());
    // The code cache made after the rehearsal (the load and unload paths compiled) starts
    // every later worker of the process, a cold one back to back too.
    const cached = hasCodeCache() ? undefined : worker.request((r) => r.codeCache()).then(keepCodeCache);
    return Promise.all([loaded, unloaded, cached]);
  }, () => !loaderHeld());
}

/**
 * A version served by `threads` worker threads, each with its own dlopen of the same copy.
 * Calls go to the least busy thread: over its shared-memory channel when the ring carries
 * the arguments and result (ring-codec.ts), else as a message. Hooks run once per version, in the first one.
 */
export class ThreadRuntime extends PooledRuntime<ThreadWorkerHandle> implements VersionRuntime {
  /**
   * Starts `threads` workers (taken from `standby` when given) and loads the version in
   * each; if any fails, all are ended and the first load error is thrown.
   */
  static async start(request: LoadRequest, threads: number, standby?: Standby<ThreadWorkerHandle>, rings?: RingPool): Promise<ThreadRuntime> {
    // A constructor that never returned (an earlier load past its deadline) holds glibc's
    // loader lock: a thread started now would wait on it for good, so the load waits for
    // it at most loadTimeoutMs, then is refused (ERR_LOADER_BLOCKED).
    await loaderFree(request.library, request.timeoutMs ?? 0);
    const state = request.state?.kind === 'shared' ? request.state.buffer : undefined;
    const tids: number[] = [];
    const { handles, report } = await awaited(loadAll(request, threads, standby, () => new ThreadWorkerHandle(rings), function* (w) {
      const loaded = yield* loadInWorker(w, { ...request, channel: w.channel.buffer });
      w.channel.open(loaded, state);
      tids.push(...loaded.tids ?? []);
      return loaded;
    }));
    return new ThreadRuntime({ ...report, tids }, handles, true);
  }

  override async shutdown(): Promise<void> {
    const worker = this.handles[0]!;
    if (worker.channel.called) await takeServingCodeCache(() => worker.request((r) => r.codeCache()));
    await super.shutdown();
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    const worker = this.leastBusy();
    return this.send(worker, worker.channel, name, args);
  }

  /** Blocks until the call returns: on the channel, or for other functions on the
   *  blocking message path; ERR_CALL_TIMEOUT after `timeoutMs` (0: no limit). */
  readonly callSync = (name: string, args: unknown[], timeoutMs = 0): unknown => {
    const worker = this.leastBusy();
    const result = worker.channel.callSync(name, args, timeoutMs);
    return result === NOT_FAST ? this.viaBlocking(worker, name, args, timeoutMs) : result;
  };
}

/** A worker thread loads over its message port: in thread isolation a restart is driven by
 *  the event loop only (see CrashRestart). */
const loadInWorker = awaitOnly('loading a worker thread', (w: ThreadWorkerHandle, request: LoadRequest) => w.loaderRequest((r) => r.load(request)));
