import koffi, { type LibraryHandle } from 'koffi';
import { IsoswapError } from '../errors.js';
import { type LibraryServiceApi, type LoadInfo, type LoadReport, type LoadRequest, type ParamType } from '../wire/protocol.js';
import { paramTypes } from '../library/param-types.js';
import { openState, type StatePointer } from '../state/state-pointer.js';
import { StateSection } from '../state/state-section-memory.js';
import { isSyncOp, runSyncOp, type SyncOpTarget } from './sync-ops.js';
import { copiesOf, type CopiedBack } from '../transport/copy-back.js';
import { platform } from '../platform/platform.js';

type NativeFunction = (...args: unknown[]) => unknown;

// struct isoswap_info of native/include/isoswap.h; koffi registers the name once per thread.
koffi.struct('isoswap_info', { version: 'uint32_t', reason: 'uint32_t', failure: 'uint32_t', previous: 'uint32_t' });
const LOAD_HOOK = 'int32_t isoswap_load(void *state, uint32_t bytes)';
const LOAD_EX_HOOK = 'int32_t isoswap_load_ex(void *state, uint32_t bytes, const isoswap_info *info)';
const UNLOAD_HOOK = 'void isoswap_unload(void *state, uint32_t bytes)';
const PREFIX_OK = 'void isoswap_state_prefix_ok(void)'; // only looked up, never called

/**
 * One loaded version, inside the worker thread or child process that owns it. Each
 * runtime has its own koffi instance, so prototype names never collide across versions.
 */
export class LibraryService implements LibraryServiceApi, SyncOpTarget {
  #lib: LibraryHandle | null = null;
  /** Dependencies loaded before the library (request.preload), let go after it. */
  #preloaded: LibraryHandle[] = [];
  /** Undoes what the platform did so that the copy's dependencies are found beside it. */
  #afterUnload: () => void = () => {};
  #library = '';
  readonly #functions = new Map<string, NativeFunction>();
  #loadHook: NativeFunction | null = null;
  #loadExHook: NativeFunction | null = null;
  #section: StateSection | null = null;
  /** Answers a mark on the blocking path (set by the worker entry that owns that path). */
  onMark: ((seq: number) => void) | null = null;
  #unloadHook: NativeFunction | null = null;
  #state: StatePointer = { pointer: null, bytes: 0, close() {} };

  load(request: LoadRequest): LoadReport {
    this.#library = request.library;
    try {
      for (const dependency of request.preload ?? []) this.#preloaded.push(koffi.load(dependency));
      this.#afterUnload = platform().beforeLoad(request.copy);
      this.#lib = koffi.load(request.copy);
    } catch (err) {
      this.#releaseLibrary();
      throw this.#loadError(err as Error, request);
    }
    for (const [name, prototype] of Object.entries(request.functions)) {
      this.#functions.set(name, this.#declare(name, prototype));
    }
    this.#loadHook = this.#optional(LOAD_HOOK);
    this.#loadExHook = this.#optional(LOAD_EX_HOOK);
    this.#unloadHook = this.#optional(UNLOAD_HOOK);
    if (request.state !== undefined) this.#state = openState(request.state);
    if (request.section !== undefined) this.#section = new StateSection(request.copy, request.section);
    return {
      hooks: { load: this.#loadHook !== null || this.#loadExHook !== null, unload: this.#unloadHook !== null },
      section: this.#section === null ? null : { bytes: this.#section.bytes, prefixOk: this.#optional(PREFIX_OK) !== null },
      functions: [...this.#functions.keys()],
      arity: this.#arity(request.functions),
      params: this.#params(),
    };
  }

  call(name: string, args: unknown[]): unknown {
    if (isSyncOp(name)) return runSyncOp(this, name, args);
    return this.invoke(this.#function(name), name, args);
  }

  readSection(into: Uint8Array | undefined): Uint8Array | undefined {
    return this.#section?.read(into);
  }

  writeSection(bytes: Uint8Array): void {
    this.#section?.write(bytes);
  }

  /** A call whose `_Out_` buffers travel back with its answer (a message path). */
  callOut(fn: string, fnArgs: unknown[], positions: number[]): CopiedBack {
    const value = this.invoke(this.#function(fn), fn, fnArgs);
    return { value, out: copiesOf(fnArgs, positions) };
  }

  /** The native function bound to `name`, for a channel that calls it many times. */
  fn(name: string): NativeFunction {
    return this.#function(name);
  }

  /** Calls `fn`, turning koffi's argument errors into typed ones. */
  invoke(fn: NativeFunction, name: string, args: unknown[]): unknown {
    try {
      return fn(...args);
    } catch (err) {
      throw new IsoswapError('ERR_BAD_ARGUMENTS', `bad arguments for ${name} in ${this.#library}: ${(err as Error).message}`, { function: name, file: this.#library });
    }
  }

  runLoadHook(info: LoadInfo = { version: 0, reason: 0, failure: 0, previous: 0 }): number {
    if (this.#loadExHook !== null) {
      // struct isoswap_info by pointer, not a JS object koffi would copy into its heap (libc.ts cString)
      const struct = Uint32Array.of(info.version, info.reason, info.failure, info.previous);
      return Number(this.#loadExHook(this.#state.pointer, this.#state.bytes, struct));
    }
    if (this.#loadHook === null) return 0;
    return Number(this.#loadHook(this.#state.pointer, this.#state.bytes));
  }

  runUnloadHook(): boolean {
    if (this.#unloadHook === null) return false;
    this.#unloadHook(this.#state.pointer, this.#state.bytes);
    return true;
  }

  unload(): void {
    this.#functions.clear();
    this.#loadHook = this.#loadExHook = this.#unloadHook = null;
    this.#section = null;
    this.#state.close();
    this.#releaseLibrary();
  }

  #releaseLibrary(): void {
    this.#lib?.unload();
    this.#lib = null;
    this.#afterUnload();
    this.#afterUnload = () => {};
    for (const dependency of this.#preloaded.splice(0).reverse()) dependency.unload();
  }

  /** A dependency the loader could not find is ERR_DEPENDENCY_MISSING (with where it
   *  looked); any other refusal, ERR_NOT_A_LIBRARY. */
  #loadError(err: Error, request: LoadRequest): IsoswapError {
    // The host explains it (dependencies.ts explainMissing: which library needs it, where
    // it looked): the ELF reading that takes stays out of every worker's start.
    const dependency = /([^\s:]+): cannot open shared object file/.exec(err.message)?.[1];
    if (dependency !== undefined && dependency !== request.copy) {
      return new IsoswapError('ERR_DEPENDENCY_MISSING', `${dependency}, needed by ${request.library}, was not found (dlopen: ${err.message})`,
        { file: request.library, dependency });
    }
    return new IsoswapError('ERR_NOT_A_LIBRARY', `dlopen refused ${request.library}: ${err.message}`, { file: request.library });
  }

  #function(name: string): NativeFunction {
    const fn = this.#functions.get(name);
    if (fn === undefined) {
      throw new IsoswapError('ERR_UNKNOWN_FUNCTION', `unknown function ${name}: declare it in \`functions\``, { function: name });
    }
    return fn;
  }

  #declare(name: string, prototype: string): NativeFunction {
    try {
      return this.#lib!.func(prototype) as NativeFunction;
    } catch (err) {
      const message = (err as Error).message;
      const symbol = /^\s*[^(]*?([A-Za-z_]\w*)\s*\(/.exec(prototype)?.[1] ?? name;
      if (message.startsWith('Cannot find function')) {
        throw new IsoswapError('ERR_SYMBOL_MISSING', `symbol ${symbol} not found in ${this.#library}`, { symbol, function: name, file: this.#library });
      }
      throw new IsoswapError('ERR_BAD_PROTOTYPE', `bad prototype for ${name} ('${prototype}'): ${message}`, { function: name, prototype });
    }
  }

  // Null-prototype records: a function may be declared under any name, `__proto__` too.
  #arity(prototypes: Record<string, string>): Record<string, number> {
    const arity: Record<string, number> = Object.create(null);
    for (const [name, prototype] of Object.entries(prototypes)) {
      if (prototype.includes('...')) continue;
      arity[name] = (this.#functions.get(name) as unknown as { info: { arguments: unknown[] } }).info.arguments.length;
    }
    return arity;
  }

  #params(): Record<string, ParamType[]> {
    const params: Record<string, ParamType[]> = Object.create(null);
    for (const [name, fn] of this.#functions) params[name] = paramTypes((fn as unknown as { info: { arguments: unknown[] } }).info);
    return params;
  }

  #optional(prototype: string): NativeFunction | null {
    try {
      return this.#lib!.func(prototype) as NativeFunction;
    } catch {
      return null; // hooks are optional
    }
  }
}
