import { inPhase, IsoswapError } from '../errors.js';
import { loaderStuck } from '../library/loader-sweep.js';
import { SYNC_OP, type LoadInfo, type LoadReport, type LoadRequest } from '../wire/protocol.js';
import type { Deadline } from '../transport/blocking-wait.js';
import { withDeadline } from './deadline.js';
import type { RuntimeHandle } from './runtime-handle.js';
import type { Standby } from './standby.js';

/** How long a worker thread or child process may take to start (boot Node, import koffi). */
const RUNTIME_START_MS = 60_000;

/**
 * Takes `count` handles (from `standby` where one waits), loads the version in each with
 * `load`, and returns the handles and the first report; if any load fails, all are ended
 * and that error is thrown. The standby is refilled by VersionFactory, after the swap.
 *
 * @example
 * const { handles, report } = await loadAll(request, 2, standby, () => new ThreadWorkerHandle(), (w) => w.request((r) => r.load(request)));
 */
export async function loadAll<H extends RuntimeHandle>(
  request: LoadRequest, count: number, standby: Standby<H> | undefined, spawn: () => H, load: (handle: H) => Promise<LoadReport>,
): Promise<{ handles: H[]; report: LoadReport }> {
  const handles = Array.from({ length: count }, () => standby?.take() ?? spawn());
  handles.forEach((h, i) => { h.label = `${h.kind} ${i} of ${request.library}`; });
  const loads = handles.map(load);
  const settled = Promise.allSettled(loads);
  // loadTimeoutMs times the load itself (dlopen, constructors): its clock starts once the
  // runtimes run. Starting Node in a child took 250-365 ms on a loaded machine.
  await withDeadline(Promise.race([Promise.all(handles.map((h) => h.ready)), settled]), RUNTIME_START_MS, () =>
    new IsoswapError('ERR_LOAD_TIMEOUT', `the runtime for ${request.library} did not start within ${RUNTIME_START_MS} ms`, { file: request.library }))
    .catch(async (err: unknown) => { await Promise.all(handles.map((h) => h.kill())); throw err; });
  const results = await withDeadline(settled, request.timeoutMs ?? 0, () => {
    // A child process is killed now. A thread must not be: terminating it inside koffi.load
    // aborts the whole process when dlopen returns (napi_throw). It is ended once its load
    // returns, if ever; until then it is an abandoned thread.
    const processes = handles.filter((h) => h.kind === 'process');
    void Promise.all(processes.map((h) => h.kill()));
    const threads = handles.filter((h) => h.kind !== 'process');
    if (threads.length > 0) loaderStuck(Promise.allSettled(loads).then(() => Promise.all(threads.map((h) => h.kill()))));
    return new IsoswapError('ERR_LOAD_TIMEOUT', `loading ${request.library} took longer than ${request.timeoutMs} ms (a library constructor that does not return?)`,
      { file: request.library, timeoutMs: request.timeoutMs });
  });
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(handles.map((h) => h.kill()));
    throw inPhase(failed.reason, 'constructor');
  }
  return { handles, report: (results[0] as PromiseFulfilledResult<LoadReport>).value };
}

/**
 * What the thread and process runtimes share: a version served by several handles, the
 * hooks run once per version in the first one, teardown of all.
 */
export abstract class PooledRuntime<H extends RuntimeHandle> {
  protected constructor(readonly report: LoadReport, protected readonly handles: H[]) {}

  // Most libraries export no hooks: no round trip for those (~0.5 ms of a swap).
  runLoadHook(info?: LoadInfo): Promise<number> {
    if (!this.report.hooks.load) return Promise.resolve(0);
    return this.handles[0]!.request((r) => r.runLoadHook(info));
  }

  /** A hand-over step on the first handle's blocking path (where the hooks run). */
  hookSync(op: string, args: unknown[], timeoutMs: number): unknown {
    return this.handles[0]!.syncCall.call(op, args, timeoutMs);
  }

  /** Every handle (a child process each has its own copy of the section). */
  writeSectionSync(bytes: Uint8Array, timeoutMs: number): void {
    for (const h of this.handles) h.syncCall.call(SYNC_OP.writeSection, [bytes], timeoutMs);
  }

  settleSync(deadline: Deadline): void {
    for (const h of this.handles) h.settleSync(deadline);
  }

  runUnloadHook(): Promise<boolean> {
    if (!this.report.hooks.unload) return Promise.resolve(false);
    return this.handles[0]!.request((r) => r.runUnloadHook());
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.stop()));
  }

  async kill(reason?: IsoswapError): Promise<void> {
    await Promise.all(this.handles.map((h) => h.kill(reason)));
  }

  abandon(): void {
    for (const h of this.handles) h.unref();
  }

  /** The first death of any handle is the version's. */
  onCrash(listener: (error: IsoswapError) => void): void {
    let reported = false;
    for (const h of this.handles) {
      h.onCrash((err) => {
        if (reported) return;
        reported = true;
        listener(err);
      });
    }
  }

  protected leastBusy(): H {
    let best = this.handles[0]!;
    if (this.handles.length === 1) return best;
    for (const h of this.handles) if (h.busy < best.busy) best = h;
    return best;
  }
}
