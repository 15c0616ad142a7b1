import type { Version } from '../version/version.js';

/**
 * What an addon host adds to every call (src/addon/addon-values.ts): its arguments turned
 * into their wire form for the version that runs it, and its result back. The library
 * host has none.
 */
export interface CallCodec {
  call(version: Version, name: string, args: unknown[], send: (args: unknown[]) => Promise<unknown>): Promise<unknown>;
  callSync(version: Version, name: string, args: unknown[], send: (args: unknown[]) => unknown): unknown;
}
