import { inspect } from 'node:util';

/**
 * The keys JavaScript itself asks an object for (`await`, `JSON.stringify`, a template
 * string, `util.inspect`). A proxy that makes a function for every name (`addon.exports`,
 * `host.fns`) answers them itself: made into calls, `await host.fns` or
 * `JSON.stringify(addon.exports)` would start a native call nobody awaits, whose rejection
 * ends the program. A function of one of these names is reached with `call(name)`.
 */
const ANSWERS = new Map<PropertyKey, (self: object, tag: string) => unknown>([
  ['then', () => undefined], // not a thenable: `await` gives the object itself
  ['toJSON', () => undefined], // JSON.stringify enumerates the functions: `{}`
  ['toString', (_, tag) => () => `[object ${tag}]`],
  ['toLocaleString', (_, tag) => () => `[object ${tag}]`],
  ['valueOf', (self) => () => self],
  ['constructor', () => undefined],
  [Symbol.toPrimitive, (_, tag) => () => `[object ${tag}]`],
  [Symbol.toStringTag, (_, tag) => tag],
  [Symbol.iterator, () => undefined],
  [Symbol.asyncIterator, () => undefined],
  [inspect.custom, () => undefined], // util.inspect lists the functions
]);

/** Whether `key` is one JavaScript asks for itself, answered by {@link protocolAnswer}. */
export function isProtocolKey(key: PropertyKey): boolean {
  return ANSWERS.has(key) || typeof key === 'symbol';
}

/**
 * What the proxy `self` (shown as `[object tag]`) answers for a protocol key.
 */
export function protocolAnswer(key: PropertyKey, self: object, tag: string): unknown {
  return ANSWERS.get(key)?.(self, tag);
}
