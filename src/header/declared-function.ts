/** One function a `header` file exports, as read from it: its koffi prototype, or why
 *  it has none (a type that cannot be mapped), with the line that declares it. */
export type DeclaredFunction =
  | { name: string; line: number; prototype: string }
  | { name: string; line: number; problem: string };

/**
 * The koffi prototype of a function from its result and argument types (already koffi
 * spellings), in the form people write by hand: `const char *name(void)`.
 */
export function prototypeOf(result: string, name: string, args: string[]): string {
  return `${result}${result.endsWith('*') ? '' : ' '}${name}(${args.length === 0 ? 'void' : args.join(', ')})`;
}
