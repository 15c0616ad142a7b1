import { IsoswapError } from '../errors.js';
import { SYNC_OP, type LibraryServiceApi, type LoadInfo, type LoadReport, type LoadRequest, type StateRef } from '../wire/protocol.js';
import type { LibraryService } from './library-service.js';
import { mapProcessState } from '../state/state-pointer.js';
import { isSyncOp, runSyncOp, type SyncOpTarget } from './sync-ops.js';
import { ADDON_OP, type AddonExportsReport } from '../wire/addon-wire.js';
import { exportTable } from './addon-exports.js';
import { GuestValues, withOut, type CallHost, type OutViews } from './addon-values.js';
import type { TaggedEntry } from '../transport/tagged-calls.js';
import { loadAddon } from './addon-module.js';

type AddonFunction = (...args: unknown[]) => unknown;

/** Optional exports run at a swap with the state block, like isoswap_load/isoswap_unload. */
const LOAD_HOOK = 'isoswapLoad';
const UNLOAD_HOOK = 'isoswapUnload';

/**
 * One version of a Node-API addon, inside the worker thread or child process that owns
 * it: `process.dlopen` of the private copy, its exported functions called by name. Node
 * registers an addon once per thread and never unloads it there, hence a fresh worker (or
 * child) per version; ending that worker is what unmaps the copy.
 */
export class AddonService implements LibraryServiceApi, SyncOpTarget {
  #library = '';
  #functions = new Map<string, AddonFunction>();
  #exports: AddonExportsReport | null = null;
  readonly #values: GuestValues;
  #state: { view: Uint8Array; close(): void } | null = null;
  #release: () => void = () => {};
  /** The `.node` files the version loaded (a package may load several). */
  loaded: string[] = [];
  /** Answers a mark on the blocking path (the worker entry's, passed on by withAddons). */
  onMark: ((seq: number) => void) | null = null;

  /** @param callHost how a host function passed as an argument is called back (blocking) */
  constructor(callHost: CallHost = () => { throw new IsoswapError('ERR_UNSUPPORTED_PLATFORM', 'host callbacks are not served here'); }) {
    this.#values = new GuestValues(callHost);
  }

  /**
   * A result in its wire form (handles as descriptors, Buffers tagged, views cut to their
   * bytes): what any path that carries an addon's result sends (the message path, a ring);
   * the host's inverse is `AddonCodec.fromWire`.
   */
  toWire(value: unknown): unknown {
    return this.#values.toWire(value);
  }

  load(request: LoadRequest): LoadReport {
    this.#library = request.library;
    const module = { exports: {} as Record<string, unknown> };
    try {
      const addon = loadAddon(request); // the addon's, or the package's, module.exports
      module.exports = addon.exports as Record<string, unknown>;
      this.loaded = addon.loaded;
      this.#release = addon.release;
    } catch (err) {
      throw loadError(err, request.library);
    }
    const table = exportTable(module.exports, [LOAD_HOOK, UNLOAD_HOOK]);
    this.#functions = table.functions;
    this.#exports = table.report;
    if (request.state !== undefined) this.#state = stateView(request.state);
    const hooks = { load: this.#functions.has(LOAD_HOOK), unload: this.#functions.has(UNLOAD_HOOK) };
    return { hooks, section: null, functions: this.#exported(), arity: {}, params: Object.create(null) as LoadReport['params'], exports: table.report };
  }

  /**
   * Calls an exported function. Its result must survive a structured clone; a Promise it
   * returns (async work) settles first. What it throws becomes ERR_ADDON_THREW.
   */
  call(name: string, args: unknown[]): unknown {
    if (isSyncOp(name)) return this.#op(name, args);
    return this.#run(name, this.#exported(name), undefined, args);
  }

  /** Runs `fn` (this: `self`) with the host's arguments; its result (awaited) and what it
   *  wrote into the caller's arrays go back in their wire form. */
  #run(name: string, fn: AddonFunction, self: unknown, wireArgs: unknown[], construct = false): unknown {
    const out: OutViews[] = [];
    const args = wireArgs.map((arg) => this.#values.fromWire(arg, out));
    const result = this.#invoke(name, () => (construct ? Reflect.construct(fn, args) : Reflect.apply(fn, self, args)) as unknown);
    const back = (value: unknown): unknown => withOut(cloneable(this.#values.toWire(value), name, this.#library), out);
    if (result instanceof Promise) return result.then(back, (err: unknown) => { throw threw(err, name, this.#library); });
    return back(result);
  }

  /** The reserved names: hand-over steps, and what a handle or a signal asks for. */
  #op(name: string, args: unknown[]): unknown {
    switch (name) {
      case ADDON_OP.construct: return this.#run(`new ${args[0] as string}`, this.#exported(args[0] as string), undefined, args[1] as unknown[], true);
      case ADDON_OP.method: {
        const [id, method, methodArgs] = args as [number, string, unknown[]];
        const target = this.#values.handle(id) as Record<string, unknown>;
        const member = target[method];
        if (typeof member === 'function') return this.#run(method, member as AddonFunction, target, methodArgs);
        if (methodArgs.length === 0 && member !== undefined) return cloneable(this.#values.toWire(member), method, this.#library);
        throw new IsoswapError('ERR_UNKNOWN_FUNCTION', `the ${target.constructor?.name ?? 'object'} of handle ${id} has no method ${method}`, { function: method, file: this.#library });
      }
      case ADDON_OP.release: return this.#values.release(args[0] as number[]);
      case ADDON_OP.abort: return this.#values.abort(args[0] as number, args[1]);
      default: return runSyncOp(this, name, args);
    }
  }

  /** The exported function at `path`; ERR_UNKNOWN_FUNCTION (listing the exports) if none. */
  #exported(path: string): AddonFunction;
  #exported(): string[];
  #exported(path?: string): AddonFunction | string[] {
    const names = this.#exports?.functions ?? [];
    if (path === undefined) return names;
    const fn = this.#functions.get(path);
    if (fn === undefined || path === LOAD_HOOK || path === UNLOAD_HOOK) {
      throw new IsoswapError('ERR_UNKNOWN_FUNCTION', `${this.#library} exports no function ${path}; it exports ${names.join(', ') || 'none'}`,
        { function: path, file: this.#library });
    }
    return fn;
  }

  /**
   * Calls an export with arguments as the ring carries them (plain values, no wire forms):
   * its result, or a Promise of it that rejects with ERR_ADDON_THREW. Throws
   * ERR_UNKNOWN_FUNCTION or ERR_ADDON_THREW.
   */
  invoke(name: string, args: unknown[]): unknown {
    const fn = this.#exported(name);
    const result = this.#invoke(name, () => fn(...args));
    if (result instanceof Promise) return result.catch((err: unknown) => { throw threw(err, name, this.#library); });
    return result;
  }

  /** A result as it crosses to the host, on every path (the ring posts what its slots
   *  cannot carry through here): handles as descriptors, Buffers tagged (`toWire`). */
  wire(name: string, value: unknown): unknown {
    return cloneable(this.#values.toWire(value), name, this.#library);
  }

  /** The blocking form (callSync): a function that returns a Promise is refused, since
   *  the caller blocks the thread that would see it settle. An AsyncFunction is refused
   *  before it runs (details.ran false); another is known only once it returned one. */
  callSync(name: string, args: unknown[]): unknown {
    if (this.#exports?.async.includes(name) === true) throw returnsPromise(name, this.#library, false);
    const result = this.call(name, args);
    if (result instanceof Promise) throw this.refuseAsync(name, result);
    return result;
  }

  /** The error of a blocking call to an export that returned `pending`. */
  refuseAsync(name: string, pending: Promise<unknown>): IsoswapError {
    pending.catch(() => {}); // refused: its outcome has no taker
    return returnsPromise(name, this.#library, true);
  }

  /** Every export, as the ring serves them (in LoadReport.functions order). */
  ringEntries(): TaggedEntry[] {
    return this.#exported().map((name) => ({
      tagged: true,
      call: (args) => this.invoke(name, args),
      wire: (value) => this.wire(name, value),
      refuseAsync: (pending) => this.refuseAsync(name, pending),
    }));
  }

  /** isoswapLoad(state, info): nothing or 0 accepts the version, another number refuses
   *  it. `info` is what isoswap_load_ex gets: { version, reason, failure, previous }. */
  runLoadHook(info: LoadInfo = { version: 0, reason: 0, failure: 0, previous: 0 }): number {
    const hook = this.#functions.get(LOAD_HOOK);
    if (hook === undefined) return 0;
    const result = this.#invoke(LOAD_HOOK, () => hook(this.#state?.view, info));
    return typeof result === 'number' ? result : 0;
  }

  runUnloadHook(): boolean {
    const hook = this.#functions.get(UNLOAD_HOOK);
    if (hook === undefined) return false;
    this.#invoke(UNLOAD_HOOK, () => hook(this.#state?.view));
    return true;
  }

  /** An addon has no isoswap_state section to read or write. */
  readSection(): undefined {
    return undefined;
  }

  writeSection(): undefined {
    return undefined;
  }

  /** Lets go of the exports; the copy stays mapped until this thread or process ends. */
  unload(): void {
    this.#functions.clear();
    this.#values.end();
    this.#state?.close();
    this.#state = null;
    this.#release();
  }

  #invoke(name: string, run: () => unknown): unknown {
    try {
      return run();
    } catch (err) {
      throw threw(err, name, this.#library);
    }
  }
}

function returnsPromise(name: string, library: string, ran: boolean): IsoswapError {
  return new IsoswapError('ERR_BAD_ARGUMENTS', `${name} in ${library} returns a Promise: call it with exports.${name}(), not callSync`,
    { function: name, file: library, ran });
}

/**
 * The state block as the hooks receive it: a Uint8Array, since Node-API on Node 20 does
 * not take a bare SharedArrayBuffer for an ArrayBuffer. Thread isolation: over the host's
 * SharedArrayBuffer; process isolation: over the shared mapping of the inherited memfd.
 * Neither moves, so an addon may keep the data pointer until isoswapUnload.
 */
function stateView(ref: StateRef): { view: Uint8Array; close(): void } {
  if (ref.kind === 'shared') return { view: new Uint8Array(ref.buffer), close() {} };
  const mapped = mapProcessState(ref);
  return { view: new Uint8Array(mapped.view()), close: () => mapped.unmap() };
}

/** "did not self-register" (a plain library) or an init that threw: ERR_ADDON_INIT; any
 *  other dlopen refusal (an undefined symbol, another machine's ELF) as for libraries. */
function loadError(err: unknown, library: string): IsoswapError {
  if (err instanceof IsoswapError) return err; // ERR_DEPENDENCY_MISSING
  const { code, message } = describe(err);
  if (code === 'ERR_DLOPEN_FAILED' && !message.includes('did not self-register')) {
    return new IsoswapError('ERR_NOT_A_LIBRARY', `dlopen refused ${library}: ${message}`, { file: library });
  }
  const why = code === 'ERR_DLOPEN_FAILED' ? 'is not a Node-API addon (it did not register)' : `threw in its init: ${message}`;
  return new IsoswapError('ERR_ADDON_INIT', `${library} ${why}`, { file: library, code, message });
}

/** An exception from the addon (a JS throw, napi_throw_error): its code stays in details,
 *  with its other own properties that structured clone carries (lightningcss's `loc`,
 *  `fileName`, `source`). */
function threw(err: unknown, name: string, library: string): IsoswapError {
  if (err instanceof IsoswapError) return err;
  const { code, message, errorName } = describe(err);
  return new IsoswapError('ERR_ADDON_THREW', `${name} in ${library} threw${code === undefined ? '' : ` ${code}`}: ${message}`,
    { ...ownProperties(err), function: name, file: library, code, name: errorName, message });
}

function ownProperties(err: unknown): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) return {};
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) {
    try {
      kept[key] = structuredClone(value);
    } catch {
      // a function, a handle: stays behind
    }
  }
  return kept;
}

function describe(err: unknown): { code: string | undefined; message: string; errorName: string | undefined } {
  if (!(err instanceof Error)) return { code: undefined, message: String(err), errorName: undefined };
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : undefined, message: err.message, errorName: err.name };
}

/** Primitives pass as they are; an object is tried once with structuredClone here, so
 *  that a function or external handle in it is a typed error naming the function rather
 *  than the transport's anonymous one. */
function cloneable(value: unknown, name: string, library: string): unknown {
  if (typeof value === 'symbol') {
    throw new IsoswapError('ERR_NOT_CLONEABLE', `the result of ${name} in ${library} is a symbol, which cannot cross to the host`,
      { function: name, file: library });
  }
  if (typeof value !== 'object' && typeof value !== 'function') return value;
  if (value === null) return value;
  try {
    structuredClone(value);
  } catch (err) {
    throw new IsoswapError('ERR_NOT_CLONEABLE', `the result of ${name} in ${library} cannot cross to the host: ${(err as Error).message}`,
      { function: name, file: library });
  }
  return value;
}

/** What a worker serves for an addon beside comlink: how to stop it, and the exports on
 *  its call ring (LoadReport.fast). */
export interface AddonServing {
  stop: () => void;
  fast?: LoadReport['fast'];
}

/**
 * The service a worker exposes: loads go to `library` (koffi), or for an addon to a new
 * AddonService; later requests go to whichever loaded last, `callSync` (the blocking
 * paths) as the addon's callSync. `onAddon` starts what the
 * worker serves beside comlink for the addon (its call ring, its blocking-call path) and
 * returns how to stop it, and the exports it serves on the ring; `frame` runs around an
 * addon's load (a worker thread names itself first, as for a library, so that the threads
 * the addon starts are found at its retire).
 */
export function withAddons(library: LibraryService, onAddon?: (addon: AddonService, request: LoadRequest, report: LoadReport) => AddonServing,
  frame: (request: LoadRequest, load: () => LoadReport) => LoadReport = (_, load) => load(), callHost?: CallHost): LibraryServiceApi & Pick<AddonService, 'callSync'> {
  let active: LibraryServiceApi = library;
  let stop: (() => void) | undefined;
  const service: LibraryServiceApi & Pick<AddonService, 'callSync'> = {
    /** For the blocking paths: an addon's callSync, a library's call; a load (a restart
     *  driven by a blocked host) as `load`. */
    callSync: (name, args) => (name === SYNC_OP.load ? service.load(args[0] as LoadRequest)
      : active instanceof AddonService ? active.callSync(name, args) : active.call(name, args)),
    load(request) {
      if (request.addon !== true) {
        active = library;
        return library.load(request);
      }
      const addon = new AddonService(callHost);
      addon.onMark = library.onMark;
      const report = frame(request, () => ({ ...addon.load(request), loadedAddons: addon.loaded }));
      active = addon;
      const serving = onAddon?.(addon, request, report);
      stop = serving?.stop;
      return serving?.fast === undefined ? report : { ...report, fast: serving.fast };
    },
    call: (name, args) => active.call(name, args),
    runLoadHook: (info) => active.runLoadHook(info),
    runUnloadHook: () => active.runUnloadHook(),
    unload() {
      stop?.();
      stop = undefined;
      active.unload();
      active = library;
    },
  };
  return service;
}
