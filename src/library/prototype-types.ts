/**
 * The JavaScript type koffi gives the result of a C prototype, worked out by the type
 * checker from the prototype string itself, so that `host.fns.do_tick(1)` is a
 * `Promise<number>` without a second declaration. Prototypes that are not string
 * literals give `any`.
 */

type Has<S extends string, Part extends string> = S extends `${string}${Part}${string}` ? true : false;

/** The result type of one C type as koffi returns it. */
export type NativeResult<C extends string> =
  Has<C, '*'> extends true ? (Has<C, 'char'> extends true ? string | null : unknown)
  : Has<C, 'void'> extends true ? undefined
  : Has<C, 'bool'> extends true ? boolean
  : Has<C, '64'> extends true ? number | bigint
  : Has<C, 'long long'> extends true ? number | bigint
  : number;

/** The result type of a prototype such as `'int32_t do_tick(int32_t)'`. */
export type PrototypeResult<P extends string> =
  string extends P ? any
  : P extends `${infer Head}(${string}` ? NativeResult<Head>
  : any;
