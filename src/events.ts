import { EventEmitter } from 'node:events';
import { IsoswapError } from './errors.js';
import type { VersionInfo } from './version/version-info.js';

/** The events a host emits. */
export const HOST_EVENTS = {
  /** The first version serves: `(version)`. */
  LOAD: 'load',
  /** A new version is loaded and about to replace the serving one, which still serves:
   *  `({ from, to, reason })`. A listener may return a promise: the swap waits for it (up
   *  to hookTimeoutMs) before calls are held and the old version unloads. */
  BEFORE_SWAP: 'beforeSwap',
  /** A new version serves: `({ from, to, ms, reason })`. */
  SWAP: 'swap',
  /** A version drained, unloaded, its copy removed: `(version)`. */
  RETIRED: 'retired',
  /** A version died; `error` follows: `({ version, error })`. */
  CRASH: 'crash',
  /** A swap nobody awaited failed, or a version crashed: `(error)`. */
  ERROR: 'error',
  /** The host closed. */
  CLOSE: 'close',
  /** Something went wrong that failed nothing, e.g. an `_Out_` buffer detached while its
   *  call ran (ERR_BUFFER_LOST): `(error)`, an IsoswapError. */
  WARNING: 'warning',
} as const;

export type HostEventName = (typeof HOST_EVENTS)[keyof typeof HOST_EVENTS];

/** Why a version replaced another. */
export type SwapReason = 'reload' | 'watch' | 'rollback' | 'restart' | 'fleet';

export interface SwapEvent {
  from: VersionInfo;
  to: VersionInfo;
  /** From the start of the swap to the new version serving. */
  ms: number;
  reason: SwapReason;
  /** With a state block: how long new calls waited (old drain + hooks). */
  pauseMs?: number | undefined;
}

export interface BeforeSwapEvent {
  /** Serving until the swap: flush what it must not lose now. */
  from: VersionInfo;
  /** Loaded, not serving yet. */
  to: VersionInfo;
  reason: SwapReason;
}

/** Listener arguments of each event. */
export interface HostEventMap {
  load: [VersionInfo];
  beforeSwap: [BeforeSwapEvent];
  swap: [SwapEvent];
  retired: [VersionInfo];
  crash: [{ version: VersionInfo; error: IsoswapError }];
  error: [IsoswapError];
  close: [];
  warning: [IsoswapError];
}

function listenerThrew(event: string, err: unknown): IsoswapError {
  return new IsoswapError('ERR_LISTENER_THREW', `a '${event}' listener threw: ${err instanceof Error ? err.message : String(err)}`,
    { event }, { cause: err });
}

/**
 * A typed EventEmitter. An `error` nobody listens for becomes a process warning instead
 * of a throw: a broken build must not take the program down.
 */
export class HostEmitter extends EventEmitter<HostEventMap> {
  /**
   * Tells the diagnostics channels, then calls every listener, each on its own: one that
   * throws does not keep the others from running nor change what the host did (a `swap`
   * listener's throw made `reload()` reject while the new version served). Its error is
   * reported as an `error` event (ERR_LISTENER_THREW, the thrown value as `cause`), or a
   * warning when nobody listens; so is the rejection of a promise a listener returns.
   * `error` and `warning` keep Node's own semantics ({@link reportError}).
   *
   * @internal Left out of the declaration files: users see EventEmitter's own `emit`,
   * whose signature differs between @types/node versions (26 rejects this one as an
   * override without skipLibCheck).
   */
  override emit<K extends keyof HostEventMap>(event: K, ...args: HostEventMap[K]): boolean {
    this.observe?.(event, args);
    if (event === HOST_EVENTS.ERROR || event === HOST_EVENTS.WARNING) {
      return (super.emit as (e: K, ...a: HostEventMap[K]) => boolean)(event, ...args);
    }
    const listeners = this.rawListeners(event) as Array<(...a: unknown[]) => unknown>;
    for (const listener of listeners) {
      try {
        const returned = listener.apply(this, args as unknown[]);
        // An async listener's rejection would otherwise be unhandled: the program would exit.
        if (returned instanceof Promise) returned.catch((err: unknown) => this.reportError(listenerThrew(String(event), err)));
      } catch (err) {
        this.reportError(listenerThrew(String(event), err));
      }
    }
    return listeners.length > 0;
  }

  /** @internal Told every event as it is emitted, listened for or not (an `error` nobody
   *  listens for too): the host publishes them on its diagnostics channels. */
  protected observe?<K extends keyof HostEventMap>(event: K, args: HostEventMap[K]): void;

  /** @internal Emits `error` if anyone listens, else a process warning. */
  reportError(error: IsoswapError): void {
    this.#report(HOST_EVENTS.ERROR, error);
  }

  /** @internal Emits `warning` if anyone listens, else a process warning. */
  reportWarning(error: IsoswapError): void {
    this.#report(HOST_EVENTS.WARNING, error);
  }

  /** Unheard, the event still reaches the diagnostics channels. */
  #report(event: 'error' | 'warning', error: IsoswapError): void {
    if (this.listenerCount(event) > 0) {
      try {
        this.emit(event, error);
        return;
      } catch (err) {
        // A listener of it threw: told as a warning, nothing reaches what reported.
        error = listenerThrew(event, err);
      }
    } else {
      this.observe?.(event, [error]);
    }
    process.emitWarning(error.message, { code: error.code, type: 'IsoswapWarning' });
  }

  /**
   * @internal Runs the `beforeSwap` listeners and waits for the promises they return, at most
   * `timeoutMs` (0: no limit). A listener that throws or outlives the deadline is
   * reported as an `error` and the swap goes on: a failing flush must not pin old code.
   */
  async beforeSwap(event: BeforeSwapEvent, timeoutMs: number): Promise<void> {
    const listeners = this.listeners(HOST_EVENTS.BEFORE_SWAP) as Array<(e: BeforeSwapEvent) => unknown>;
    if (listeners.length === 0) return;
    const waits = listeners.map((listener) => Promise.resolve().then(() => listener.call(this, event)));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      if (timeoutMs > 0) timer = setTimeout(() => resolve('expired'), timeoutMs);
    });
    const settled = Promise.allSettled(waits).then((results) => {
      for (const r of results) {
        if (r.status === 'rejected') this.reportError(IsoswapError.from(r.reason, 'ERR_BEFORE_SWAP', 'a beforeSwap listener failed'));
      }
      return 'settled' as const;
    });
    const outcome = await Promise.race([settled, expired]);
    clearTimeout(timer);
    if (outcome === 'expired') {
      this.reportError(new IsoswapError('ERR_HOOK_TIMEOUT',
        `a beforeSwap listener took longer than hookTimeoutMs (${timeoutMs} ms); the swap of version ${event.from.id} to ${event.to.id} went on`,
        { version: event.from.id, timeoutMs }));
    }
  }
}
