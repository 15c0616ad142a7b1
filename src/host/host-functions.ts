import type { FunctionTable } from '../options.js';
import { isProtocolKey, protocolAnswer } from './proxy-protocol.js';

type HostFunction = (...args: unknown[]) => Promise<unknown>;

/**
 * `host.fns`: a read-only object with one async function per name the serving version
 * declares. It follows the version serving, because with `header` a new build may declare
 * functions the first one did not. The keys JavaScript asks for itself (`then`, `toJSON`,
 * `toString`, symbols: proxy-protocol.ts) are answered here, never as a function: a
 * declared `then` is called with `host.call('then')`.
 */
export function hostFunctions(declared: () => FunctionTable, call: (name: string, args: unknown[]) => Promise<unknown>): Readonly<Record<string, HostFunction>> {
  const made = new Map<string, HostFunction>();
  const get = (name: string | symbol): HostFunction | undefined => {
    if (typeof name !== 'string' || isProtocolKey(name) || !Object.hasOwn(declared(), name)) return undefined;
    let fn = made.get(name);
    if (fn === undefined) made.set(name, fn = (...args) => call(name, args));
    return fn;
  };
  const fns: Readonly<Record<string, HostFunction>> = new Proxy({}, {
    get: (_target, name) => isProtocolKey(name) ? protocolAnswer(name, fns, 'HostFunctions') : get(name),
    has: (_target, name) => get(name) !== undefined,
    ownKeys: () => Object.keys(declared()).filter((name) => !isProtocolKey(name)),
    getOwnPropertyDescriptor: (_target, name) => {
      const value = get(name);
      return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: false };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
  return fns;
}
