/**
 * The JavaScript types koffi takes and gives for a C prototype, worked out by the type
 * checker from the prototype string itself, so that `host.fns.do_tick(1)` is a
 * `Promise<number>` and `host.fns.do_tick('x')` does not compile, without a second
 * declaration. A prototype is cut into return type, name and parameter list; only the
 * types count (`int32_t avoid_wall(int32_t)` returns a number whatever its name spells).
 * Prototypes that are not string literals give `any[]` and `any`; a literal that is no
 * prototype (a header function picked by name, `{ tick: 'do_tick' }`) gives `unknown[]`
 * and `unknown`: only `isoswap types` can tell its types (docs/header.md).
 */

type Space = ' ' | '\t' | '\n' | '\r';

/** `S` without white space at either end. */
type Trim<S extends string> =
  S extends `${Space}${infer R}` ? Trim<R> : S extends `${infer R}${Space}` ? Trim<R> : S;

/** `S` cut after its last `D`: `[up to and with the last D, the rest]`; `['', S]` without one. */
type CutLast<S extends string, D extends string, Acc extends string = ''> =
  S extends `${infer A}${D}${infer B}` ? CutLast<B, D, `${Acc}${A}${D}`> : [Acc, S];

/** `S` cut at every `D`. */
type Split<S extends string, D extends string> =
  S extends `${infer A}${D}${infer B}` ? [A, ...Split<B, D>] : [S];

type Has<S extends string, Part extends string> = S extends `${string}${Part}${string}` ? true : false;
type Words<S extends string> = Split<Trim<S>, ' '>[number];
type HasWord<S extends string, W extends string> = [Extract<Words<S>, W>] extends [never] ? false : true;

/** Words that belong to a C (or koffi) type, never to a declarator's name. */
type IntegerWord =
  | 'signed' | 'unsigned' | 'char' | 'short' | 'int' | 'long' | 'wchar_t' | 'char16_t' | 'char32_t'
  | `${'int' | 'uint'}${8 | 16 | 32 | 64}${'' | '_t'}` | 'uchar' | 'ushort' | 'uint' | 'ulong' | 'longlong' | 'ulonglong'
  | 'size_t' | 'ssize_t' | 'intptr_t' | 'uintptr_t' | 'ptrdiff_t';
type FloatWord = 'float' | 'double' | 'float32' | 'float64';
type BoolWord = 'bool' | '_Bool';
type TypeWord = IntegerWord | FloatWord | BoolWord
  | 'const' | 'volatile' | 'struct' | 'enum' | 'union' | 'void' | 'str' | 'string' | 'str16' | 'string16'
  | '_In_' | '_Out_' | '_Inout_';
/** Integer words whose values are 64 bits wide on Linux x86-64 (LP64). */
type Wide = 'long' | 'ulong' | 'longlong' | 'ulonglong' | 'int64' | 'int64_t' | 'uint64' | 'uint64_t'
  | 'size_t' | 'ssize_t' | 'intptr_t' | 'uintptr_t' | 'ptrdiff_t';

/** A parameter or return type with its declarator's name (if any) taken off. */
type WithoutName<S0 extends string, S extends string = Trim<S0>> =
  Has<S, '*'> extends true
    ? (CutLast<S, '*'> extends [infer T extends string, infer N extends string] ? (Trim<N> extends '' ? S : Trim<T>) : S)
    : CutLast<S, ' '> extends [infer T extends string, infer N extends string]
      ? (T extends '' ? S : N extends TypeWord ? S : Trim<T>)
      : S;

/** `char *` with any qualifiers (not `char **`), or koffi's `str`/`string`. */
type IsString<C extends string> =
  C extends `${infer Base}*${infer Rest}`
    ? (HasWord<Base, 'char'> extends true ? (Has<Rest, '*'> extends true ? false : true) : false)
    : HasWord<C, 'str' | 'string'>;

/** A C type that is not a pointer, as JavaScript sees its values. */
type ScalarType<C extends string> =
  HasWord<C, BoolWord> extends true ? boolean
  : HasWord<C, Wide> extends true ? number | bigint
  : HasWord<C, IntegerWord | FloatWord> extends true ? number
  : unknown;

/** What a function of this C type returns to JavaScript. */
export type NativeResult<C extends string> =
  IsString<Trim<C>> extends true ? string | null
  : Has<C, '*'> extends true ? unknown
  : Trim<C> extends 'void' ? undefined
  : ScalarType<C>;

/** What a parameter of this C type takes from JavaScript: a string for `const char *`, a
 *  Buffer, typed array or view of the state block for other pointers, a BigInt or a
 *  number for 64-bit integers. */
export type NativeArgument<C extends string> =
  IsString<Trim<C>> extends true ? string | null
  : Has<C, '*'> extends true ? ArrayBufferView | null
  : ScalarType<C>;

type ArgumentList<Ps extends string[]> =
  Ps extends [infer H extends string, ...infer R extends string[]]
    ? (Trim<H> extends '...' ? unknown[] : [NativeArgument<WithoutName<H>>, ...ArgumentList<R>])
    : [];

/** The declarator's name at the end of `int32_t do_tick` or `const char *name`. */
type NameOf<Head extends string> = Trim<CutLast<Head, Has<Head, '*'> extends true ? '*' : ' '>[1]>;

/** The prototype cut into its parts: `[return type, name, parameter list]`. */
type Parts<P extends string> =
  P extends `${infer Head}(${infer Params})${string}`
    ? [WithoutName<Head>, NameOf<Trim<Head>>, Params]
    : never;

/** The result type of a prototype such as `'int32_t do_tick(int32_t)'`. */
export type PrototypeResult<P extends string> =
  string extends P ? any
  : [Parts<P>] extends [never] ? unknown
  : Parts<P> extends [infer R extends string, string, string] ? NativeResult<R>
  : any;

/** The argument types of a prototype, as a tuple: `'int32_t add(int32_t a, int32_t b)'`
 *  → `[number, number]`; a variadic one ends in `...unknown[]`. */
export type PrototypeArguments<P extends string> =
  string extends P ? any[]
  : [Parts<P>] extends [never] ? unknown[]
  : Parts<P> extends [string, string, infer L extends string]
    ? (Trim<L> extends '' | 'void' ? [] : ArgumentList<Split<L, ','>>)
    : unknown[];

/** The function name a prototype declares: `'int32_t do_tick(int32_t)'` → `'do_tick'`. */
export type PrototypeName<P extends string> =
  string extends P ? string
  : Parts<P> extends [string, infer N extends string, string] ? N
  : string;
