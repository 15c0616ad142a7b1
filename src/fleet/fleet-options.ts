import { IsoswapError } from '../errors.js';
import { MAX_TIMEOUT_MS, type FleetTransport } from '../options.js';
import type { SmokeCall } from './protocol.js';

/** How a fleet swap rolls out: in waves, each but the last watched for `soakMs`. */
export interface FleetSwapOptions {
  /** Sizes of the waves before the rest, e.g. `[1]`: one canary, then every other member.
   *  Default `[]`: every member at once. */
  waves?: number[];
  /** How long each wave but the last serves before the next is committed. Default 0. */
  soakMs?: number;
  /** How many more failures (crashes + errors) per member the committed waves may have
   *  than the rest during a soak before the fleet rolls back. Default 0. */
  margin?: number;
  /** A call every member makes on the prepared build before it says yes. */
  smoke?: SmokeCall | undefined;
}

/** Options of {@link createFleet}. */
export interface FleetOptions extends FleetSwapOptions {
  transport: FleetTransport;
  /** The library whose bytes `fleet.swap()` rolls out. */
  library: string;
  /** createFleet resolves once this many members serve. */
  members: number;
  /** How long createFleet waits for `members`. Default 30000. */
  joinTimeoutMs?: number;
  /** How long a member may take to prepare before the swap aborts. Default 30000. */
  prepareTimeoutMs?: number;
  /** How long a member may take to cut over once told to. Default 30000. */
  commitTimeoutMs?: number;
  /** Redis: how long the coordinator's lease lasts unless renewed. Default 10000. */
  leaseMs?: number;
}

export type ResolvedFleetOptions = Required<Omit<FleetOptions, 'smoke'>> & { smoke: SmokeCall | undefined };

function invalid(option: string, allowed: string): IsoswapError {
  return new IsoswapError('ERR_INVALID_OPTIONS', `invalid fleet options: \`${option}\` must be ${allowed}`, { option, allowed });
}

function count(value: unknown, option: string, fallback: number, min: number, max = MAX_TIMEOUT_MS): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(option, `an integer from ${min} to ${max}`);
  return value;
}

/** Options of a swap over the fleet's defaults, checked. */
export function swapOptions(given: FleetSwapOptions | undefined, defaults: FleetSwapOptions): Required<Omit<FleetSwapOptions, 'smoke'>> & { smoke: SmokeCall | undefined } {
  const o = { ...defaults, ...given };
  const waves = o.waves ?? [];
  if (!Array.isArray(waves) || waves.some((n) => !Number.isInteger(n) || n < 1)) throw invalid('waves', 'an array of positive integers');
  if (o.margin !== undefined && (typeof o.margin !== 'number' || !(o.margin >= 0))) throw invalid('margin', 'a number ≥ 0');
  if (o.smoke !== undefined && (typeof o.smoke?.call !== 'string' || (o.smoke.args !== undefined && !Array.isArray(o.smoke.args)))) throw invalid('smoke', '{ call: name, args?: [] }');
  return { waves, soakMs: count(o.soakMs, 'soakMs', 0, 0), margin: o.margin ?? 0, smoke: o.smoke };
}

export function resolveFleetOptions(options: FleetOptions): ResolvedFleetOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object');
  const { transport, library } = options;
  const redis = typeof transport === 'object' && transport !== null && typeof transport.redis === 'string' && typeof transport.group === 'string';
  if (transport !== 'cluster' && !redis) throw invalid('transport', "'cluster' or { redis: 'redis://…', group: 'name' }");
  if (typeof library !== 'string' || library === '') throw invalid('library', 'a path');
  return {
    transport,
    library,
    members: count(options.members ?? -1, 'members', 0, 0, 100_000),
    joinTimeoutMs: count(options.joinTimeoutMs, 'joinTimeoutMs', 30_000, 1),
    prepareTimeoutMs: count(options.prepareTimeoutMs, 'prepareTimeoutMs', 30_000, 1),
    commitTimeoutMs: count(options.commitTimeoutMs, 'commitTimeoutMs', 30_000, 1),
    leaseMs: count(options.leaseMs, 'leaseMs', 10_000, 100),
    ...swapOptions(options, {}),
  };
}
