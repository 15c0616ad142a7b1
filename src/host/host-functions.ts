import type { FunctionTable } from '../options.js';

type HostFunction = (...args: unknown[]) => Promise<unknown>;

/**
 * `host.fns`: a read-only object with one async function per name the serving version
 * declares. It follows the version serving, because with `header` a new build may declare
 * functions the first one did not.
 *
 * @example
 * const fns = hostFunctions(() => current.functions, (name, args) => host.call(name, ...args));
 * await fns.do_tick(1);
 */
export function hostFunctions(declared: () => FunctionTable, call: (name: string, args: unknown[]) => Promise<unknown>): Readonly<Record<string, HostFunction>> {
  const made = new Map<string, HostFunction>();
  const get = (name: string | symbol): HostFunction | undefined => {
    if (typeof name !== 'string' || !Object.hasOwn(declared(), name)) return undefined;
    let fn = made.get(name);
    if (fn === undefined) made.set(name, fn = (...args) => call(name, args));
    return fn;
  };
  return new Proxy({}, {
    get: (_target, name) => get(name),
    has: (_target, name) => get(name) !== undefined,
    ownKeys: () => Object.keys(declared()),
    getOwnPropertyDescriptor: (_target, name) => {
      const value = get(name);
      return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: false };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}
