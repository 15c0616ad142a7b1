import { inPhase, IsoswapError, loadHookRefused, type CrashPhase } from '../errors.js';
import { onEventLoop, step, type Steps } from '../procedure.js';
import { withDeadline } from '../runtime/deadline.js';
import type { VersionRuntime } from '../runtime/types.js';
import { SYNC_OP, type LoadInfo } from '../wire/protocol.js';

/** What a hook runner needs from its version. */
export interface HookedVersion {
  readonly id: number;
  readonly library: string;
  runtime(): VersionRuntime;
  /** Set once the version is killed: no hook runs after. */
  killReason(): IsoswapError | null;
  /** Ends a version left inside a hook past its deadline (a stuck thread is reported when
   *  it retires). */
  kill(reason: IsoswapError): void;
  /** Tells the host that a hook run from the event loop outlived its deadline (a blocked
   *  host reports it where it drives the hook). */
  timedOut(error: IsoswapError): void;
}

/**
 * The hooks of one version, in their order: isoswap_load and isoswap_unload alternate,
 * and unload runs only after a load accepted. Each hook runs within its deadline (past it
 * ERR_HOOK_TIMEOUT, the version is killed) and its crash says which hook it was in. The
 * event loop sends load and unload over the message path; a blocked host, and the state
 * hand-over, over the blocking path.
 */
export class HookRunner {
  /** Between an isoswap_load that accepted and the isoswap_unload that follows. */
  #attached = false;
  /** What the version runs now, for the phase of a crash. */
  #phase: CrashPhase = 'call';
  #timeoutMs = 0;

  constructor(private readonly version: HookedVersion) {}

  /** Where a crash now would have happened: in a hook, or else in a call. */
  get phase(): CrashPhase {
    return this.#phase;
  }

  get attached(): boolean {
    return this.#attached;
  }

  /** The deadline of every hook (0: none) unless its driver gives one. */
  setTimeout(ms: number): void {
    this.#timeoutMs = ms;
  }

  /** Runs isoswap_load (isoswap_load_ex, told `info`, where exported); throws
   *  ERR_LOAD_HOOK when it refuses. */
  *attach(info: LoadInfo, timeoutMs = this.#timeoutMs): Steps<void> {
    const code = yield* this.#run('isoswap_load', SYNC_OP.loadHook, [info], timeoutMs);
    if (Number(code) !== 0) throw loadHookRefused(this.version.library, this.version.id, Number(code));
    this.#attached = true;
  }

  /** Runs isoswap_unload, if the version is attached. */
  *detach(timeoutMs = this.#timeoutMs): Steps<void> {
    if (!this.#attached) return;
    this.#attached = false;
    yield* this.#run('isoswap_unload', SYNC_OP.unloadHook, [], timeoutMs);
  }

  /** The section's bytes, over the blocking path: into `into` (thread isolation: a
   *  SharedArrayBuffer view the worker copies into), else returned (over the pipe). */
  *readSection(into: Uint8Array | undefined, timeoutMs: number): Steps<Uint8Array> {
    const read = yield* this.#run('reading isoswap_state', SYNC_OP.readSection, into === undefined ? [] : [into], timeoutMs);
    return into ?? (read as Uint8Array);
  }

  *#run(hook: string, op: string, args: unknown[], timeoutMs: number): Steps<unknown> {
    const killed = this.version.killReason();
    if (killed !== null) throw killed;
    const phase: CrashPhase = op === SYNC_OP.unloadHook ? 'unload-hook' : 'load-hook';
    this.#phase = phase; // a death seen during a blocking read is reported from inside it
    try {
      return yield* runHook(this.version.runtime(), op, args, timeoutMs);
    } catch (err) {
      if (!(err instanceof IsoswapError) || err.code !== 'ERR_CALL_TIMEOUT') throw inPhase(err, phase);
      const error = this.#timedOut(hook, phase, timeoutMs);
      if (yield* onEventLoop()) this.version.timedOut(error);
      throw error;
    } finally {
      this.#phase = 'call';
    }
  }

  /** Past its deadline the version is killed: a child process is SIGKILLed; a worker
   *  thread cannot be, and is abandoned. */
  #timedOut(hook: string, phase: CrashPhase, ms: number): IsoswapError {
    const { id, library } = this.version;
    const thread = this.version.runtime().report.threadName !== undefined;
    const error = new IsoswapError('ERR_HOOK_TIMEOUT',
      `${hook} of ${library} (version ${id}) did not return within ${ms} ms (hookTimeoutMs); ` +
      (thread ? 'its worker thread is abandoned: it ends when the hook returns, and may still write the state block until then'
        : 'its process is killed'),
      { hook, phase, version: id, file: library, timeoutMs: ms });
    this.#attached = false;
    this.version.kill(error);
    return error;
  }
}

/** One hook: over the message path on the event loop (load and unload), else on the
 *  blocking path; past `timeoutMs` (0: none), ERR_CALL_TIMEOUT either way. */
const runHook = step(
  (runtime: VersionRuntime, op: string, args: unknown[], timeoutMs: number): unknown => runtime.hookSync(op, args, timeoutMs),
  (runtime: VersionRuntime, op: string, args: unknown[], timeoutMs: number): Promise<unknown> => {
    const work = op === SYNC_OP.loadHook ? runtime.runLoadHook(args[0] as LoadInfo)
      : op === SYNC_OP.unloadHook ? runtime.runUnloadHook()
      : Promise.resolve(runtime.hookSync(op, args, timeoutMs));
    return withDeadline(work, timeoutMs, () => new IsoswapError('ERR_CALL_TIMEOUT', `${op.slice(1)} took longer than ${timeoutMs} ms`, { timeoutMs }));
  });
