import { isProtocolKey, protocolAnswer } from '../host/proxy-protocol.js';
import type { ASYNC_DISPOSE } from '../async-dispose.js';

type AnyFunction = (...args: any[]) => any;
type AnyClass = abstract new (...args: any[]) => any;

/**
 * The host's object for an instance that stays in the version that made it (`await new
 * addon.exports.Counter(5)`, or a result that is a class instance): each method returns a
 * promise of its result; a property that is not a method is read by calling it. Its calls
 * run on the version that made it, until it is released (`Symbol.asyncDispose`, garbage
 * collection) or that version's handles end (ERR_VERSION_RETIRED).
 */
export type Handle<T> = {
  readonly [K in keyof T as K extends string ? K : never]: T[K] extends AnyFunction
    ? (...args: Parameters<T[K]>) => Promise<Awaited<ReturnType<T[K]>>>
    : () => Promise<T[K]>;
} & { [ASYNC_DISPOSE](): Promise<void> };

/** What one export becomes in `host.exports`: a class gives handles, a function a
 *  promise of its result, a namespace object the same mapping one level down. */
export type AddonExport<V> = 0 extends 1 & V ? UntypedExport : V extends AnyClass
  ? (V extends AnyFunction ? Constructed<V> & Called<V> : Constructed<V>)
  : V extends AnyFunction ? Called<V>
    : V extends object ? AddonExports<V> : never;
type Called<V> = V extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
type Constructed<V> = V extends abstract new (...args: infer A) => infer I ? new (...args: A) => Promise<Handle<I>> : never;

/** An export of an untyped addon: a function (type the host to construct classes and
 *  reach namespaces, or cast). */
export type UntypedExport = (...args: any[]) => Promise<any>;

/** The names of `T`'s exports that are called: functions, classes, namespaces of them. */
export type AddonExportName<T> = { [K in keyof T]: 0 extends 1 & T[K] ? K : T[K] extends AnyFunction | AnyClass ? K : T[K] extends object ? ([CalledName<T[K]>] extends [never] ? never : K) : never }[keyof T] & string;
/** The functions and classes of one namespace object. */
type CalledName<T> = { [K in keyof T]: T[K] extends AnyFunction | AnyClass ? K : never }[keyof T];

/** `host.exports`: each function of the addon's module type returning a Promise of its
 *  result, each class constructing a Promise of a {@link Handle}, nested objects alike;
 *  callable itself when the module is a function. */
export type AddonExports<T> = { readonly [K in AddonExportName<T>]: AddonExport<T[K]> } & (T extends AnyFunction ? Called<T> : unknown);

/** The non-function exports of `T`, as `host.values` holds them (read once per version). */
export type AddonValues<T> = { readonly [K in keyof T as T[K] extends AnyFunction | AnyClass | object ? never : K]: T[K] };

const FUNCTION_KEYS = new Set<PropertyKey>(['call', 'apply', 'bind']);

/** What the proxies ask of the host. */
export interface ExportsTarget {
  call(path: string, args: unknown[]): Promise<unknown>;
  construct(path: string, args: unknown[]): Promise<unknown>;
  /** The exported function paths of the version serving now. */
  paths(): string[];
}

/**
 * `host.exports` and what it holds: a proxy per path (`xxh3.xxh64`) that is called
 * (`host.exports.tick(1)`, or `host.exports(...)` when module.exports is a function), or
 * constructed (`new host.exports.Counter(5)`), or read one level down. Any name gives a
 * proxy (a name the version does not export rejects ERR_UNKNOWN_FUNCTION when called);
 * keys and `in` list the current version's. The keys JavaScript asks for itself (`then`,
 * `toJSON`, `toString`, symbols: proxy-protocol.ts) are answered here, so that `await`,
 * `JSON.stringify` or a template string never call the addon; an export of such a name is
 * reached with `host.call(name)`.
 */
export function exportsProxy(path: string, host: ExportsTarget, callable: boolean): object {
  const children = new Map<string, object>();
  const childPath = (key: string): string => (path === '' ? key : `${path}.${key}`);
  const names = (): string[] => {
    const prefix = path === '' ? '' : `${path}.`;
    const found = host.paths().filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('.')[0]!);
    return [...new Set(found)].filter((name) => name !== '' && !isProtocolKey(name));
  };
  // A bound function is callable and constructible and has no own `prototype` (which a
  // proxy's ownKeys would have to list); the root is a plain object unless module.exports
  // is a function, so that JSON.stringify(host.exports) stays `{}`.
  const target = callable ? function exported() {}.bind(null) : Object.create(null) as object;
  const proxy: object = new Proxy(target, {
    get(_, key) {
      if (isProtocolKey(key)) return protocolAnswer(key, proxy, 'AddonExports');
      // An export is a function to the code that holds it (promisify, wrappers): `call`,
      // `apply` and `bind` are Function's; an export of such a name is reached by path.
      if (callable && FUNCTION_KEYS.has(key)) return Reflect.get(Function.prototype, key) as unknown;
      if (typeof key !== 'string') return undefined;
      let child = children.get(key);
      if (child === undefined) children.set(key, child = exportsProxy(childPath(key), host, true));
      return child;
    },
    apply: (_, __, args: unknown[]) => host.call(path, args),
    construct: (_, args: unknown[]) => host.construct(path, args),
    has: (_, key) => typeof key === 'string' && names().includes(key),
    ownKeys: () => names(),
    getOwnPropertyDescriptor(_, key) {
      if (typeof key !== 'string' || !names().includes(key)) return undefined;
      return { value: (this.get as (t: object, k: string) => unknown)(target, key), enumerable: true, configurable: true, writable: false };
    },
  });
  return proxy;
}
