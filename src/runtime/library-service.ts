import { isMainThread } from 'node:worker_threads';
import koffi, { type LibraryHandle } from 'koffi';
import { IsoswapError } from '../errors.js';
import { dependencyMissing, missingDependencyName } from '../library/dependencies.js';
import type { LibraryServiceApi, LoadReport, LoadRequest } from './protocol.js';
import { openState, type StatePointer } from '../state/state-pointer.js';

type NativeFunction = (...args: unknown[]) => unknown;

const LOAD_HOOK = 'int32_t isoswap_load(void *state, uint32_t bytes)';
const UNLOAD_HOOK = 'void isoswap_unload(void *state, uint32_t bytes)';

/**
 * One loaded version, inside the worker thread or child process that owns it. Each
 * runtime has its own koffi instance, so prototype names never collide across versions.
 */
export class LibraryService implements LibraryServiceApi {
  #lib: LibraryHandle | null = null;
  /** Dependencies loaded before the library (request.preload), let go after it. */
  #preloaded: LibraryHandle[] = [];
  #library = '';
  readonly #functions = new Map<string, NativeFunction>();
  #loadHook: NativeFunction | null = null;
  #unloadHook: NativeFunction | null = null;
  #state: StatePointer = { pointer: null, bytes: 0, close() {} };

  load(request: LoadRequest): LoadReport {
    this.#library = request.library;
    try {
      for (const dependency of request.preload ?? []) this.#preloaded.push(koffi.load(dependency));
      this.#lib = koffi.load(request.copy);
    } catch (err) {
      for (const dependency of this.#preloaded.splice(0).reverse()) dependency.unload();
      throw this.#loadError(err as Error, request);
    }
    for (const [name, prototype] of Object.entries(request.functions)) {
      this.#functions.set(name, this.#declare(name, prototype));
    }
    this.#loadHook = this.#optional(LOAD_HOOK);
    this.#unloadHook = this.#optional(UNLOAD_HOOK);
    if (request.state !== undefined) this.#state = openState(request.state);
    return {
      hooks: { load: this.#loadHook !== null, unload: this.#unloadHook !== null },
      functions: [...this.#functions.keys()],
      arity: this.#arity(request.functions),
    };
  }

  call(name: string, args: unknown[]): unknown {
    return this.invoke(this.#function(name), name, args);
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

  runLoadHook(): number {
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
    this.#loadHook = this.#unloadHook = null;
    this.#state.close();
    this.#lib?.unload();
    this.#lib = null;
    for (const dependency of this.#preloaded.splice(0).reverse()) dependency.unload();
  }

  /** A dependency the loader could not find is ERR_DEPENDENCY_MISSING (with where it
   *  looked); any other refusal, ERR_NOT_A_LIBRARY. */
  #loadError(err: Error, request: LoadRequest): IsoswapError {
    const dependency = missingDependencyName(err.message, request.copy);
    if (dependency !== null) {
      return dependencyMissing(dependency, {
        library: request.library, copy: request.copy, libraryPath: request.libraryPath ?? [], isolation: isMainThread ? 'process' : 'thread',
      }, err);
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

  #arity(prototypes: Record<string, string>): Record<string, number> {
    const arity: Record<string, number> = {};
    for (const [name, prototype] of Object.entries(prototypes)) {
      if (prototype.includes('...')) continue;
      arity[name] = (this.#functions.get(name) as unknown as { info: { arguments: unknown[] } }).info.arguments.length;
    }
    return arity;
  }

  #optional(prototype: string): NativeFunction | null {
    try {
      return this.#lib!.func(prototype) as NativeFunction;
    } catch {
      return null; // hooks are optional
    }
  }
}
