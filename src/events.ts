import { EventEmitter } from 'node:events';
import type { IsoswapError } from './errors.js';
import type { VersionInfo } from './version/version-info.js';

/** The events a host emits. */
export const HOST_EVENTS = {
  /** The first version serves: `(version)`. */
  LOAD: 'load',
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
} as const;

export type HostEventName = (typeof HOST_EVENTS)[keyof typeof HOST_EVENTS];

/** Why a version replaced another. */
export type SwapReason = 'reload' | 'watch' | 'rollback' | 'restart';

export interface SwapEvent {
  from: VersionInfo;
  to: VersionInfo;
  /** From the start of the swap to the new version serving. */
  ms: number;
  reason: SwapReason;
  /** With a state block: how long new calls waited (old drain + hooks). */
  pauseMs?: number | undefined;
}

/** Listener arguments of each event. */
export interface HostEventMap {
  load: [VersionInfo];
  swap: [SwapEvent];
  retired: [VersionInfo];
  crash: [{ version: VersionInfo; error: IsoswapError }];
  error: [IsoswapError];
  close: [];
}

/**
 * A typed EventEmitter. An `error` nobody listens for becomes a process warning instead
 * of a throw: a broken build must not take the program down.
 */
export class HostEmitter extends EventEmitter<HostEventMap> {
  /** @internal Emits `error` if anyone listens, else a warning. */
  reportError(error: IsoswapError): void {
    if (this.listenerCount(HOST_EVENTS.ERROR) > 0) this.emit(HOST_EVENTS.ERROR, error);
    else process.emitWarning(error.message, { code: error.code, type: 'IsoswapWarning' });
  }
}
