import diagnosticsChannel from 'node:diagnostics_channel';
import type { IsoswapError } from './errors.js';
import type { HostEventMap, SwapEvent } from './events.js';
import type { VersionInfo } from './version/version-info.js';

/**
 * The `node:diagnostics_channel` channels every host publishes on, whether or not anyone
 * listens to its events (docs/diagnostics.md): an APM or a monitoring tool sees every
 * host of the process without holding one.
 */
export const DIAGNOSTICS_CHANNELS = {
  /** The first version serves: `{ host, version }`. */
  load: 'isoswap:load',
  /** A new version serves: the `swap` event plus `host`. */
  swap: 'isoswap:swap',
  /** A swap asked for by `reload()`, `rollback()` or the watcher did not happen (the
   *  current version serves on): `{ host, reason, error }`. */
  swapFailed: 'isoswap:swap-failed',
  /** A version drained, unloaded, its copy removed: `{ host, version }`. */
  retired: 'isoswap:retired',
  /** The serving version died: the `crash` event plus `host`. */
  crash: 'isoswap:crash',
  /** What the `error` event carries, listened for or not: `{ host, error }`. */
  error: 'isoswap:error',
  /** What the `warning` event carries, listened for or not: `{ host, error }`. */
  warning: 'isoswap:warning',
  /** The host closed: `{ host }`. */
  close: 'isoswap:close',
} as const;

/** The host a message is about: the IsolatedHost or AddonHost the program holds. */
export interface DiagnosticsHost {
  readonly current: VersionInfo;
  readonly closed: boolean;
}

/** Why a swap was asked for, in `isoswap:swap-failed`. */
export type FailedSwapReason = 'reload' | 'rollback' | 'watch';

/** The message of each channel. */
export interface DiagnosticsMessages {
  'isoswap:load': { host: DiagnosticsHost; version: VersionInfo };
  'isoswap:swap': SwapEvent & { host: DiagnosticsHost };
  'isoswap:swap-failed': { host: DiagnosticsHost; reason: FailedSwapReason; error: IsoswapError };
  'isoswap:retired': { host: DiagnosticsHost; version: VersionInfo };
  'isoswap:crash': HostEventMap['crash'][0] & { host: DiagnosticsHost };
  'isoswap:error': { host: DiagnosticsHost; error: IsoswapError };
  'isoswap:warning': { host: DiagnosticsHost; error: IsoswapError };
  'isoswap:close': { host: DiagnosticsHost };
}

type ChannelName = keyof DiagnosticsMessages;
const channels = new Map<ChannelName, diagnosticsChannel.Channel>(
  Object.values(DIAGNOSTICS_CHANNELS).map((name) => [name, diagnosticsChannel.channel(name)]));

/** Publishes when someone subscribed; the message is only built then. */
function publish<N extends ChannelName>(name: N, message: () => DiagnosticsMessages[N]): void {
  const channel = channels.get(name)!;
  if (channel.hasSubscribers) channel.publish(message());
}

/**
 * Publishes a host event on its channel, on the host's thread, as the host emits it
 * (`beforeSwap` has none: its listeners may hold the swap, a subscriber cannot).
 */
export function publishHostEvent<K extends keyof HostEventMap>(host: DiagnosticsHost, event: K, args: HostEventMap[K]): void {
  const [first] = args as unknown[];
  switch (event) {
    case 'load': return publish('isoswap:load', () => ({ host, version: first as VersionInfo }));
    case 'swap': return publish('isoswap:swap', () => ({ ...(first as SwapEvent), host }));
    case 'retired': return publish('isoswap:retired', () => ({ host, version: first as VersionInfo }));
    case 'crash': return publish('isoswap:crash', () => ({ ...(first as HostEventMap['crash'][0]), host }));
    case 'error': return publish('isoswap:error', () => ({ host, error: first as IsoswapError }));
    case 'warning': return publish('isoswap:warning', () => ({ host, error: first as IsoswapError }));
    case 'close': return publish('isoswap:close', () => ({ host }));
    default: return undefined;
  }
}

/** Publishes a swap that was asked for and did not happen. */
export function publishFailedSwap(host: DiagnosticsHost, reason: FailedSwapReason, error: IsoswapError): void {
  publish('isoswap:swap-failed', () => ({ host, reason, error }));
}
