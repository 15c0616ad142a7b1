import type { AddonExportsReport } from '../wire/addon-wire.js';

type AddonFunction = (...args: unknown[]) => unknown;

/** How deep nested namespaces (`xxh3.xxh64`) are followed. */
const MAX_DEPTH = 4;

/**
 * An addon's `module.exports` as it is: a function itself (path ''), functions and classes
 * at any depth of plain objects (by dotted path), and the other values structured clone
 * carries, read once (at load).
 */
export function exportTable(exported: unknown, hidden: readonly string[]): { functions: Map<string, AddonFunction>; report: AddonExportsReport } {
  const functions = new Map<string, AddonFunction>();
  const report: AddonExportsReport = { callable: typeof exported === 'function', functions: [], classes: [], async: [], values: {} };
  const visit = (value: unknown, path: string, depth: number): void => {
    if (typeof value === 'function') {
      functions.set(path, value as AddonFunction);
      if (path !== '' && !hidden.includes(path)) report.functions.push(path);
      if (isClass(value as AddonFunction)) report.classes.push(path);
      if (value.constructor.name === 'AsyncFunction') report.async.push(path);
      return;
    }
    if (typeof value !== 'object' || value === null) {
      if (path !== '' && typeof value !== 'symbol') report.values[path] = value;
      return;
    }
    const proto = Object.getPrototypeOf(value) as object | null;
    if ((proto === Object.prototype || proto === null) && depth < MAX_DEPTH) {
      for (const [key, item] of ownProperties(value)) visit(item, path === '' ? key : `${path}.${key}`, depth + 1);
      return;
    }
    if (path === '') return;
    try {
      report.values[path] = structuredClone(value);
    } catch {
      // stays in the worker: neither callable nor cloneable
    }
  };
  visit(exported, '', 0);
  // A function as module.exports may carry properties too (utf-8-validate's do not).
  if (typeof exported === 'function') {
    for (const [key, item] of ownProperties(exported)) visit(item, key, 1);
  }
  return { functions, report };
}

/** Every own string-keyed property: Node-API's napi_define_properties with napi_default
 *  (the docs' own pattern) makes exports non-enumerable, which Object.entries skips. A
 *  function's own `length`, `name` and `prototype` are not exports. */
function ownProperties(value: object): Array<[string, unknown]> {
  const skip = typeof value === 'function' ? ['length', 'name', 'prototype', 'arguments', 'caller'] : [];
  return Object.getOwnPropertyNames(value).filter((key) => !skip.includes(key)).flatMap((key): Array<[string, unknown]> => {
    try {
      return [[key, (value as Record<string, unknown>)[key]]];
    } catch {
      return []; // a getter that throws: no export
    }
  });
}

/** A class (napi_define_class, a JS class): its prototype has methods of its own. */
function isClass(fn: (...args: never[]) => unknown): boolean {
  if (/^class\b/.test(Function.prototype.toString.call(fn))) return true;
  const proto = (fn as { prototype?: unknown }).prototype;
  return typeof proto === 'object' && proto !== null && Object.getOwnPropertyNames(proto).some((name) => name !== 'constructor');
}
