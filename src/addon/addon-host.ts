import { ASYNC_DISPOSE } from '../async-dispose.js';
import { illegalConstructor, IsoswapError } from '../errors.js';
import { HOST_EVENTS, HostEmitter, type HostEventMap } from '../events.js';
import type { CallOptions, CloseOptions } from '../host/call-options.js';
import { IsolatedHost } from '../host/isolated-host.js';
import type { ResolvedOptions } from '../options.js';
import type { VersionInfo } from '../version/version-info.js';
import { ADDON_OP, type AddonExportsReport } from '../wire/addon-wire.js';
import { AddonCodec } from './addon-values.js';
import { exportsProxy, type AddonExports, type AddonValues } from './exports-proxy.js';

type AnyFunction = (...args: any[]) => any;

/** The names of `T`'s function-valued properties. */
export type AddonFunctionName<T> = { [K in keyof T]: T[K] extends AnyFunction ? K : never }[keyof T] & string;

/** What an untyped addon is taken to export. */
export type UntypedAddon = Record<string, any>;

type Args<T, K extends keyof T> = T[K] extends (...args: infer A) => any ? A : never;
/** The library host's call and callSync: typed from prototypes there, by name here. */
type UntypedCall<R> = (name: string, ...args: unknown[]) => R;
type Result<T, K extends keyof T> = T[K] extends (...args: any[]) => infer R ? R : never;

/** Only createAddonHost holds it: `new AddonHost()` throws. */
const FACTORY = Symbol('createAddonHost');

/**
 * Serves the current version of a Node-API addon, each version loaded from its own copy in
 * its own worker thread (or child process), and swaps it for a new build without dropping
 * a call. A facade over the library host: swaps, drain, rollback, history, events, crash
 * restarts and teardown are the same. Made by {@link createAddonHost}.
 *
 * @example
 * addon.on('swap', ({ to }) => console.log(`serving v${to.id}`));
 */
export class AddonHost<T extends object = UntypedAddon> extends HostEmitter {
  readonly #host: IsolatedHost;
  readonly #addon: string;
  #exports: AddonExports<T> | null = null;

  /** Hosts are made by {@link createAddonHost}: `new` throws ERR_ILLEGAL_CONSTRUCTOR. */
  private constructor(host: IsolatedHost, addon: string, factory: typeof FACTORY) {
    if (factory !== FACTORY) throw illegalConstructor('AddonHost', 'createAddonHost');
    super();
    this.#host = host;
    this.#addon = addon;
    host.publishAs(this); // the diagnostics channels name the host the program holds
    // The library host's events, passed on; an error nobody listens for here stays a warning.
    for (const event of Object.values(HOST_EVENTS)) {
      host.on(event, (...args: unknown[]) => {
        if (event === HOST_EVENTS.ERROR) this.reportError(args[0] as IsoswapError);
        else (this.emit as (e: keyof HostEventMap, ...a: unknown[]) => boolean)(event, ...args);
      });
    }
    host.useCodec(new AddonCodec(addon, (err) => this.reportWarning(err)));
  }

  /** Every export as it is: a function as `(...args) => Promise<result>`, a class as
   *  `new (...args) => Promise<Handle>`, a namespace object one level down, and the host
   *  itself callable when `module.exports` is a function (docs/addons.md, "What crosses"). */
  get exports(): AddonExports<T> {
    this.#exports ??= exportsProxy('', {
      call: (path, args) => this.call(path as AddonFunctionName<T>, ...(args as Args<T, AddonFunctionName<T>>)),
      construct: (path, args) => (this.#host.call as UntypedCall<Promise<unknown>>).call(this.#host, ADDON_OP.construct, path, args)
        .catch((err: unknown) => { throw this.#typed(err, `new ${path}`); }),
      paths: () => this.#host.functions,
    }, this.#report()?.callable === true) as AddonExports<T>;
    return this.#exports;
  }

  /** What the serving version's exports are; undefined once it is torn down (closed). */
  #report(): AddonExportsReport | undefined {
    if (this.#host.closed) return undefined;
    try {
      return this.#host.serving.runtime.report.exports;
    } catch {
      return undefined; // torn down: nothing serves
    }
  }

  /** The non-function exports of the version serving now (a version string, constants),
   *  read once when it loaded; by path for nested ones (`meta.version`). */
  get values(): AddonValues<T> {
    return Object.freeze({ ...this.#report()?.values }) as AddonValues<T>;
  }

  /** The version serving now. */
  get current(): VersionInfo {
    return this.#host.current;
  }

  /** The versions served so far, oldest first, with their status. */
  get history(): VersionInfo[] {
    return this.#host.history;
  }

  /** The state block shared by every version, or undefined without `state`. */
  get state(): Uint8Array | undefined {
    return this.#host.state;
  }

  get closed(): boolean {
    return this.#host.closed;
  }

  /**
   * Calls an exported function on the current version (as `host.exports[name]` does).
   *
   * @example
   * const n = await addon.call('tick', 5);
   */
  call<K extends AddonFunctionName<T>>(name: K, ...args: Args<T, K>): Promise<Awaited<Result<T, K>>> {
    return (this.#host.call as UntypedCall<Promise<unknown>>).call(this.#host, name, ...args).catch((err: unknown) => { throw this.#typed(err, name); }) as Promise<Awaited<Result<T, K>>>;
  }

  /**
   * Calls an exported function and blocks until it returns: for a synchronous function
   * whose arguments and result structured clone can carry (one that returns a Promise is
   * refused). During a state hand-over it finishes the hand-over first, as the library
   * host's callSync does.
   *
   * @example
   * const n = addon.callSync('tick', 5);
   */
  callSync<K extends AddonFunctionName<T>>(name: K, ...args: Args<T, K>): Result<T, K> {
    try {
      return (this.#host.callSync as UntypedCall<unknown>).call(this.#host, name, ...args) as Result<T, K>;
    } catch (err) {
      throw this.#typed(err, name);
    }
  }

  /**
   * Loads what is at `addon` now and serves it; the old version drains in the background.
   *
   * @example
   * const v = await addon.reload();
   */
  reload(): Promise<VersionInfo> {
    return this.#host.reload();
  }

  /**
   * Serves the previous good build again (ERR_NO_ROLLBACK when there is none).
   *
   * @example
   * await addon.rollback();
   */
  rollback(): Promise<VersionInfo> {
    return this.#host.rollback();
  }

  /**
   * Stops watching, lets calls in flight finish, ends every version's worker (which
   * unmaps its copy) and removes the copies. Idempotent.
   *
   * @example
   * process.on('SIGINT', () => addon.close());
   */
  close(options?: CloseOptions): Promise<void> {
    return this.#host.close(options);
  }

  /** `await using addon = await createAddonHost(...)`: close() at the end of the scope. */
  [ASYNC_DISPOSE](): Promise<void> {
    return this.close();
  }

  /** @internal createAddonHost's: the host serving the addon's first build (made before
   *  it starts, so that its `load` event and diagnostics name this host). */
  static async open<T extends object>(opts: ResolvedOptions): Promise<AddonHost<T>> {
    let addon: AddonHost<T> | undefined;
    await IsolatedHost.open(opts, (host) => { addon = new AddonHost<T>(host, opts.library, FACTORY); });
    return addon!;
  }

  /**
   * Calls an exported function with options of its own, as the library host's callWith:
   * `signal` (ERR_CALL_ABORTED, `details.started`), `timeoutMs` instead of `callTimeoutMs`.
   *
   * @example
   * await addon.callWith({ signal: AbortSignal.timeout(100) }, 'tick', 5);
   */
  callWith<K extends AddonFunctionName<T>>(options: CallOptions, name: K, ...args: Args<T, K>): Promise<Awaited<Result<T, K>>> {
    return (this.#host.callWith as (o: CallOptions, n: string, ...a: unknown[]) => Promise<unknown>).call(this.#host, options, name, ...args)
      .catch((err: unknown) => { throw this.#typed(err, name); }) as Promise<Awaited<Result<T, K>>>;
  }

  /** An argument structured clone cannot carry is refused by the transport (a
   *  DataCloneError from postMessage, a plain Error from the IPC channel's serializer):
   *  ERR_NOT_CLONEABLE naming the function. */
  #typed(err: unknown, name: string): unknown {
    const cause = err instanceof IsoswapError ? (err.code === 'ERR_BAD_ARGUMENTS' ? err.cause : undefined) : err;
    if (!(cause instanceof Error) || (cause.name !== 'DataCloneError' && !cause.message.endsWith('could not be cloned.'))) return err;
    return new IsoswapError('ERR_NOT_CLONEABLE', `an argument of ${name} (${this.#addon}) cannot cross to its worker: ${cause.message}`,
      { function: name, file: this.#addon }, { cause });
  }
}
