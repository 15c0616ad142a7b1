import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cStarter } from './starters/c.js';
import { rustStarter } from './starters/rust.js';
import { platform } from '../platform/platform.js';
import { runScript, type Starter } from './starters/starter.js';
import { rejectUnknownOptions, UsageError, type OptionSpecs } from './usage.js';

export const INIT_HELP = `Usage: isoswap init <dir> [--lang c|rust]

Writes a starter project into <dir> (new or empty): a library whose globals live in a
state struct that survives swaps, the build command, a package.json whose "dev" script
runs it all, and a README. Then:

  cd <dir> && npm install --save-dev isoswap && npm run dev

and save an edit: the library is rebuilt and swapped in while it runs.

Options:
      --lang <lang>  c (default; needs cc) or rust (needs cargo; no dependencies)
  -h, --help         show this help
`;

const OPTIONS = { lang: { type: 'string' }, help: { type: 'boolean', short: 'h' } } satisfies OptionSpecs;
const STARTERS: Record<string, (system: ReturnType<typeof platform>) => Starter> = { c: cStarter, rust: rustStarter };

/**
 * `isoswap init <dir> [--lang c|rust]`: writes a starter project; resolves to the exit
 * code (2 for a command line that cannot be run, or a folder that is not empty).
 */
export async function initCommand(argv: string[]): Promise<number> {
  let given: string;
  let starter: Starter;
  try {
    const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
    rejectUnknownOptions(tokens, OPTIONS);
    if (values.help === true) {
      process.stdout.write(INIT_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing <dir>' : `one <dir>, not ${positionals.join(' ')}`);
    given = positionals[0]!;
    const lang = typeof values.lang === 'string' ? values.lang : 'c';
    starter = (STARTERS[lang] ?? fail(`--lang is c or rust, not ${lang}`))(platform());
    if (existsSync(given) && readdirSync(given).length > 0) fail(`${given} is not empty`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`isoswap init: ${err.message}\nRun "isoswap init --help" for the options.\n`);
    return 2;
  }
  const dir = resolve(given);
  const files = { ...starter.files, 'package.json': packageJson(basename(dir), starter), 'README.md': readme(basename(dir), starter), '.gitignore': `${starter.ignored.join('\n')}\n` };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  process.stdout.write(`wrote ${Object.keys(files).join(', ')} in ${dir}\nnext: cd ${given} && npm install --save-dev isoswap && npm run dev\n`);
  return 0;
}

function fail(message: string): never {
  throw new UsageError(message);
}

function packageJson(name: string, starter: Starter): string {
  const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const pkg = {
    name: name.toLowerCase().replace(/[^a-z0-9-]+/g, '-'),
    private: true,
    scripts: { dev: runScript(starter) },
    devDependencies: { isoswap: `^${version}` },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function readme(name: string, starter: Starter): string {
  return `# ${name}

A native library served by [isoswap](https://www.npmjs.com/package/isoswap): edit
\`${starter.edit}\`, save, and the new build is swapped in while the program runs.

\`\`\`sh
npm install --save-dev isoswap
npm run dev
\`\`\`

\`npm run dev\` runs:

\`\`\`sh
npx ${runScript(starter)}
\`\`\`

It builds the library (\`${starter.build}\`), serves \`${starter.library}\`, calls
\`do_tick\` every 500 ms with the tick number, rebuilds after every save under \`.\` and
swaps the new build in. The game's globals live in \`struct game_state\` inside a state
block the host owns (\`--state\`): \`isoswap_load\` attaches each new version to it, so
\`x\` keeps counting across swaps. Change \`SPEED\` in \`${starter.edit}\` and save.

A build that fails shows the compiler's output; the version serving serves on until
the next save builds. Ctrl-C stops it all.
`;
}
