import { inPhase, IsoswapError } from '../errors.js';
import { loaderStuck } from '../library/loader-sweep.js';
import { SYNC_OP, type LoadInfo, type LoadReport, type LoadRequest } from '../wire/protocol.js';
import { Deadline } from '../transport/blocking-wait.js';
import { awaited, blocking, onEventLoop, step, type Steps } from '../procedure.js';
import { withDeadline } from './deadline.js';
import { applyCopies, needingCopies, outPositions, type CopiedBack, type LostBytes } from '../transport/copy-back.js';
import type { RuntimeHandle } from './runtime-handle.js';
import type { Standby } from './standby.js';

/** How long a worker thread or child process may take to start (boot Node, import koffi). */
const RUNTIME_START_MS = 60_000;

/** How one handle loads the version (the blocking form within `timeoutMs`, 0: none). */
export type LoadOne<H> = (handle: H, timeoutMs: number) => Steps<LoadReport>;

/**
 * Takes `count` handles (from `standby` where one waits), loads the version in each with
 * `load`, and returns the handles and the first report; if any load fails, all are ended
 * and that error is thrown. The standby is refilled by RuntimeFactory, after the swap. A
 * blocking driver loads within `timeoutMs` (0: none; past it ERR_CALL_TIMEOUT).
 */
export function* loadAll<H extends RuntimeHandle>(
  request: LoadRequest, count: number, standby: Standby<H> | undefined, spawn: () => H, load: LoadOne<H>, timeoutMs = 0,
): Steps<{ handles: H[]; report: LoadReport }> {
  // A load sent on a blocking path needs a handle whose warm-up settled (Standby.takeSettled).
  const take = (yield* onEventLoop()) ? () => standby?.take() : () => standby?.takeSettled();
  const handles = Array.from({ length: count }, () => take() ?? spawn());
  handles.forEach((h, i) => { h.label = `${h.kind} ${i} of ${request.library}`; });
  const reports = yield* loadEach(request, handles, load as LoadOne<RuntimeHandle>, timeoutMs);
  return { handles, report: reports[0]! };
}

/** The loads of every handle: at once on the event loop, one after the other when blocked. */
const loadEach = step((request: LoadRequest, handles: RuntimeHandle[], load: LoadOne<RuntimeHandle>, timeoutMs: number): LoadReport[] => {
  const deadline = new Deadline(`loading ${request.library}`, timeoutMs);
  try {
    return handles.map((h) => blocking(load(h, deadline.stepMs())));
  } catch (err) {
    for (const h of handles) void h.kill();
    throw inPhase(err, 'constructor');
  }
}, async (request, handles, load) => {
  const loads = handles.map((h) => awaited(load(h, 0)));
  const settled = Promise.allSettled(loads);
  // loadTimeoutMs times the load itself (dlopen, constructors): its clock starts once the
  // runtimes run: starting Node in a child is slow on a loaded machine, and not the guest's doing.
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
  return results.map((r) => (r as PromiseFulfilledResult<LoadReport>).value);
});

/** A message that could not be cloned (a view over a resizable buffer shrunk under it, a
 *  buffer detached after the call was checked) is the caller's arguments' fault. */
const unsendable = (name: string) => (err: unknown): never => {
  if (err instanceof Error && err.name === 'DataCloneError') {
    throw new IsoswapError('ERR_BAD_ARGUMENTS', `the arguments of ${name} cannot be sent to the version: ${err.message}`, { function: name }, { cause: err });
  }
  throw err;
};

/**
 * What the thread and process runtimes share: a version served by several handles, the
 * hooks run once per version in the first one, teardown of all.
 */
export abstract class PooledRuntime<H extends RuntimeHandle> {
  /** Per function: the positions of its `_Out_`/`_Inout_` pointers (found on first call). */
  readonly #outs = new Map<string, number[]>();
  /** Per handle: its calls on the message path not settled yet. */
  readonly #onMessages = new Map<H, number>();
  #lost: LostBytes | undefined;

  /** @param shares a view over a SharedArrayBuffer reaches the worker as the memory itself (thread isolation) */
  protected constructor(readonly report: LoadReport, protected readonly handles: H[], private readonly shares: boolean) {}

  /**
   * A call to `handle`: on its ring (`ring`) when the call can go there and none of the
   * handle's earlier calls is still on the message path; else on the message path. Calls run
   * in the order they are made: a ring call would overtake a message still on its way (and a
   * crash it caused would take calls made before it that never ran).
   */
  protected send(handle: H, ring: { call(name: string, args: unknown[]): Promise<unknown> | undefined } | null, name: string, args: unknown[]): Promise<unknown> {
    if (!this.#onMessages.has(handle)) {
      const fast = ring?.call(name, args);
      if (fast !== undefined) return fast;
    }
    this.#onMessages.set(handle, (this.#onMessages.get(handle) ?? 0) + 1);
    const settled = (): void => {
      const left = this.#onMessages.get(handle)! - 1;
      if (left === 0) this.#onMessages.delete(handle);
      else this.#onMessages.set(handle, left);
    };
    const result = this.#viaMessage(handle, name, args);
    result.then(settled, settled);
    return result;
  }

  /** A call on the message path: `_Out_` buffers come back with the answer and are
   *  written into the caller's views. */
  #viaMessage(handle: H, name: string, args: unknown[]): Promise<unknown> {
    const positions = this.#copied(name, args);
    if (positions === null) return handle.request((r) => r.call(name, args)).catch(unsendable(name));
    return handle.request((r) => r.call(SYNC_OP.callOut, [name, args, positions]))
      .then((copied) => applyCopies(name, args, positions, copied as CopiedBack, this.#lost, handle.label), unsendable(name));
  }

  /** The same on the blocking path (callSync). */
  protected viaBlocking(handle: H, name: string, args: unknown[], timeoutMs: number): unknown {
    const positions = this.#copied(name, args);
    if (positions === null) return handle.syncCall.call(name, args, timeoutMs);
    const copied = handle.syncCall.call(SYNC_OP.callOut, [name, args, positions], timeoutMs) as CopiedBack;
    return applyCopies(name, args, positions, copied, this.#lost, handle.label);
  }

  /** The positions whose bytes must come back for this call, or null for none. */
  #copied(name: string, args: unknown[]): number[] | null {
    let positions = this.#outs.get(name);
    if (positions === undefined) {
      positions = Object.hasOwn(this.report.params, name) ? outPositions(this.report.params[name]!) : [];
      this.#outs.set(name, positions);
    }
    if (positions.length === 0) return null;
    const copied = needingCopies(args, positions, this.shares);
    return copied.length > 0 ? copied : null;
  }

  onWarning(listener: (error: IsoswapError) => void): void {
    this.#lost = listener;
    for (const h of this.handles) if (h.channel !== null) h.channel.onLost = listener;
  }

  // Most libraries export no hooks: no round trip for those.
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
