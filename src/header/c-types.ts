/**
 * C types as koffi spells them. Both readers (C headers and Rust sources) describe a type
 * as a {@link CType}; {@link koffiType} is the one place that decides what can cross.
 */

/** What a type is once typedefs are followed. */
export type CTypeKind =
  | 'primitive'    // `base` is a koffi primitive spelling: 'int32_t', 'unsigned long', 'void'...
  | 'record'       // a struct or union (`base` is its name)
  | 'enum'         // passed as an int (C enums are int-sized on the ABIs koffi serves)
  | 'callback'     // a function (pointer): koffi would need a registered callback type
  | 'unknown'      // a name no declaration explains
  | 'unsupported'; // long double, _Complex, __int128, a Rust reference...

export interface CType {
  kind: CTypeKind;
  base: string;
  /** `const` applies to the pointed-to value (`const char *`). */
  constBase: boolean;
  pointers: number;
}

/** C spellings (single names) koffi knows as they are, or under another name. */
const NAMED: Record<string, string> = {
  void: 'void', bool: 'bool', _Bool: 'bool', char: 'char', float: 'float', double: 'double',
  int8_t: 'int8_t', int16_t: 'int16_t', int32_t: 'int32_t', int64_t: 'int64_t',
  uint8_t: 'uint8_t', uint16_t: 'uint16_t', uint32_t: 'uint32_t', uint64_t: 'uint64_t',
  size_t: 'size_t', intptr_t: 'intptr_t', uintptr_t: 'uintptr_t', wchar_t: 'wchar_t',
  // koffi has no ssize_t or ptrdiff_t: both are pointer-sized signed integers
  ssize_t: 'intptr_t', ptrdiff_t: 'intptr_t',
  short: 'short', int: 'int', long: 'long',
};

/**
 * The koffi spelling of a primitive named by one identifier (`int32_t`, `_Bool`), or
 * undefined when koffi has no such primitive.
 */
export function namedPrimitive(name: string): string | undefined {
  return Object.hasOwn(NAMED, name) ? NAMED[name] : undefined;
}

/**
 * The koffi spelling of a C type written with several words: `unsigned long long int`,
 * `signed char`, `short`; undefined for one koffi cannot pass (`long double`).
 */
export function wordsPrimitive(words: string[]): string | undefined {
  const count = (word: string): number => words.filter((w) => w === word).length;
  const unsigned = count('unsigned') > 0;
  const longs = count('long');
  const base = words.find((w) => w !== 'unsigned' && w !== 'signed' && w !== 'long' && w !== 'short') ?? 'int';
  if (base === 'char' && longs === 0 && count('short') === 0) {
    if (unsigned) return 'unsigned char';
    return count('signed') > 0 ? 'int8_t' : 'char';
  }
  if (base === 'double' && longs === 0 && !unsigned) return 'double';
  if (base !== 'int') return undefined;
  const size = count('short') > 0 ? 'short' : longs === 0 ? 'int' : longs === 1 ? 'long' : 'long long';
  return unsigned ? `unsigned ${size}` : size;
}

/**
 * The koffi spelling of a parameter or result type, or why it cannot be one. Pointers to
 * anything koffi has no name for (structs, enums, opaque handles) become `void *`.
 */
export function koffiType(type: CType): string | { problem: string } {
  const { kind, base, constBase, pointers } = type;
  if (kind === 'callback') return { problem: `${base} is a callback (function pointer), which needs a koffi callback type: declare this function by hand` };
  if (kind === 'unknown') return { problem: `unknown type ${base} (not a primitive, and no typedef or type alias in the file says what it is)` };
  if (pointers > 0) {
    const target = kind === 'primitive' ? base : 'void';
    return `${constBase ? 'const ' : ''}${target} ${'*'.repeat(pointers)}`;
  }
  switch (kind) {
    case 'primitive': return base;
    case 'enum': return 'int';
    case 'record': return { problem: `${base} is passed by value (structs and unions by value are not supported: pass a pointer)` };
    case 'unsupported': return { problem: `${base} has no koffi equivalent` };
  }
}
