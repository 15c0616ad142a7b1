/**
 * How an addon's values cross between the host and the version that runs it, beyond what
 * structured clone carries: a plain object with the key {@link WIRE_TAG} stands for a
 * value that cannot be cloned as it is (a handle to an object that stays in the worker, a
 * host function the worker calls back, an AbortSignal, a Buffer, a caller's typed array
 * to write back). Both isolations send the same forms (src/runtime/addon-values.ts in the
 * worker, src/addon/addon-values.ts in the host).
 */

/** The key that marks a wire form; a user's object never has it (it starts with NUL). */
export const WIRE_TAG = '\0isoswap';

/** An object that stays in the worker (a class instance, a wrapped native object, an
 *  external): its id there, its class's name and method names. */
export interface WireHandle { [WIRE_TAG]: 'handle'; id: number; className: string; methods: string[] }
/** A host function: the worker calls back host function `id`. */
export interface WireFunction { [WIRE_TAG]: 'function'; id: number }
/** An AbortSignal: the worker makes one that aborts when the host's does (op abort). */
export interface WireSignal { [WIRE_TAG]: 'signal'; id: number; aborted: boolean; reason?: unknown }
/** A Buffer (structured clone gives a Uint8Array in a thread). */
export interface WireBuffer { [WIRE_TAG]: 'buffer'; bytes: Uint8Array }
/** A typed array the caller passed (argument `index`): what the addon writes into it is
 *  written back into the caller's. `buffer`: it was a Buffer. */
export interface WireView { [WIRE_TAG]: 'view'; index: number; bytes: ArrayBufferView; buffer: boolean }
/** A result with the bytes written into the caller's arrays: [argument index, bytes]. */
export interface WireResult { [WIRE_TAG]: 'result'; value: unknown; out: [number, Uint8Array][] }

export type WireForm = WireHandle | WireFunction | WireSignal | WireBuffer | WireView | WireResult;

/** The wire form `value` is, if it is one. */
export function wireForm(value: unknown): WireForm | undefined {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, WIRE_TAG)) return undefined;
  return value as WireForm;
}

/** Calls on what a version made, beside its exports: reserved names, as SYNC_OP's. */
export const ADDON_OP = {
  /** `new` on an exported class: args `[path, args]`. */
  construct: '\0isoswap.construct',
  /** A method of a handle: args `[id, method, args]`. */
  method: '\0isoswap.method',
  /** Handles released by the host: args `[ids]`. */
  release: '\0isoswap.release',
  /** An AbortSignal that aborted in the host: args `[id, reason]`. */
  abort: '\0isoswap.abort',
} as const;

/** What a version's exports are, read once at its load (LoadReport.exports). */
export interface AddonExportsReport {
  /** Whether `module.exports` itself is a function (path ''). */
  callable: boolean;
  /** Paths of exported functions (`xxh3.xxh64` for a nested one). */
  functions: string[];
  /** Paths of the functions that are classes (a prototype with methods). */
  classes: string[];
  /** Paths of the functions that are AsyncFunctions: callSync refuses them before they run. */
  async: string[];
  /** Non-function exports that structured clone carries, by path: read once per version. */
  values: Record<string, unknown>;
}

/** A host function's call from the guest (worker side: src/runtime/addon-callbacks.ts). */
export interface CallbackRequest { isoswapCallback: { id: number; args: unknown[] } }
/** Its answer: what the host function returned (awaited), or what it threw. */
export type CallbackReply = { ok: true; value: unknown } | { ok: false; error: { message: string; name: string; code?: string | undefined } };

export function isCallbackRequest(message: unknown): message is CallbackRequest {
  return typeof (message as CallbackRequest | null)?.isoswapCallback === 'object';
}
