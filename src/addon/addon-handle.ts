import { inspect } from 'node:util';
import { ASYNC_DISPOSE } from '../async-dispose.js';
import type { IsoswapError } from '../errors.js';
import type { WireHandle } from '../wire/addon-wire.js';

/** What a handle needs from the version that made it. */
export interface HandleLink {
  readonly version: number;
  /** Calls a method (or reads a property, with no arguments) on the object. */
  call(method: string, args: unknown[]): Promise<unknown>;
  /** Why the version's handles ended, or null while they live. */
  ended(): IsoswapError | null;
}

/** What a handle held by the host knows of itself (for `toJSON`, inspection, GC release). */
const DESCRIBED = Symbol('isoswap.handle');
export interface HandleFacts { id: number; className: string; version: number; methods: readonly string[] }

/**
 * The host's object for one object that stays in the version that made it: every other
 * property is a method whose calls run on that version, returning a promise. It answers
 * the keys JavaScript asks for itself (it is not a thenable, `JSON.stringify` gives
 * `{ handle, version, id }`, a template string `[Handle Counter]`), and
 * `Symbol.asyncDispose` releases it.
 */
export function makeHandle(wire: WireHandle, link: HandleLink, release: () => void): object {
  const facts: HandleFacts = { id: wire.id, className: wire.className, version: link.version, methods: Object.freeze([...wire.methods]) };
  const label = `[Handle ${facts.className}]`;
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const answers = new Map<PropertyKey, unknown>([
    ['then', undefined],
    ['constructor', undefined],
    ['toJSON', () => ({ handle: facts.className, version: facts.version, id: facts.id })],
    ['toString', () => label],
    ['valueOf', undefined],
    [Symbol.toPrimitive, () => label],
    [Symbol.toStringTag, 'Handle'],
    [inspect.custom, () => `Handle<${facts.className}> { version: ${facts.version}, id: ${facts.id}, methods: [${facts.methods.join(', ')}]${link.ended() === null ? '' : ', ended'} }`],
    [ASYNC_DISPOSE, () => { release(); return Promise.resolve(); }],
    [DESCRIBED, facts],
  ]);
  // util.inspect looks at a proxy's target without its traps: the target answers it.
  const target = Object.create(null) as object;
  Object.defineProperty(target, inspect.custom, { value: answers.get(inspect.custom), configurable: true });
  return new Proxy(target, {
    get(_, key) {
      if (answers.has(key)) return answers.get(key);
      if (typeof key !== 'string') return undefined;
      let method = methods.get(key);
      if (method === undefined) methods.set(key, method = (...args: unknown[]) => {
        const ended = link.ended();
        return ended === null ? link.call(key, args) : Promise.reject(ended);
      });
      return method;
    },
    has: (_, key) => typeof key === 'string' && facts.methods.includes(key),
    set: () => false,
  });
}

/** The facts of a handle made by {@link makeHandle}, or undefined for any other value. */
export function handleFacts(value: unknown): HandleFacts | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as Record<symbol, HandleFacts | undefined>)[DESCRIBED];
}
