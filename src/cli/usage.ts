import { closest, distance } from 'fastest-levenshtein';
import type { parseArgs } from 'node:util';

/** parseArgs' option table. */
export type OptionSpecs = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/** A command line that cannot be run; the CLI prints it with the help hint, exit 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

/**
 * Refuses what a non-strict parseArgs let through: an unknown option (with the nearest
 * known one as a suggestion), a string option without its value, a value given to a flag.
 */
export function rejectUnknownOptions(tokens: Token[], options: OptionSpecs): void {
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = options[token.name];
    if (spec === undefined) throw new UsageError(`unknown option ${token.rawName}${suggestion(token.rawName, options)}`);
    if (spec.type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
    if (spec.type === 'boolean' && token.inlineValue === true) throw new UsageError(`${token.rawName} takes no value`);
  }
}

function suggestion(rawName: string, options: OptionSpecs): string {
  const name = rawName.replace(/^-+/, '');
  const names = Object.keys(options);
  const near = closest(name, names);
  // Further than a third of the word away is a different word, not a typo.
  return distance(name, near) <= Math.max(1, Math.floor(near.length / 3)) ? ` (did you mean --${near}?)` : '';
}
