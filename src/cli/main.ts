#!/usr/bin/env node
// The `isoswap` command (package.json `bin`). It runs as soon as it is loaded, with no
// "am I the main module" test: run through the bin symlink, argv[1] is the link's path.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initCommand } from './init-command.js';
import { runCommand } from './run-command.js';
import { typesCommand } from './types-command.js';

const HELP = `Usage: isoswap <command> [options]

Commands:
  run <library>   serve a shared library, call its functions, swap in new builds
  init <dir>      write a starter project (C or Rust) that runs with one command
  types <header>  write a TypeScript module of the functions a .h or .rs file exports
  help [command]  show the help of a command

Options:
  -h, --help      show this help
  -v, --version   show the version

Run "isoswap run --help" (or "isoswap init --help") for a command's options.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'run') return runCommand(rest);
  if (command === 'init') return initCommand(rest);
  if (command === 'types') return typesCommand(rest);
  if (command === 'help') {
    if (rest[0] === 'run') return runCommand(['--help']);
    if (rest[0] === 'init') return initCommand(['--help']);
    if (rest[0] === 'types') return typesCommand(['--help']);
    process.stdout.write(HELP);
    return 0;
  }
  if (command !== undefined && !command.startsWith('-')) {
    process.stderr.write(`isoswap: unknown command '${command}'\n\n${HELP}`);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } } }));
  } catch (err) {
    process.stderr.write(`isoswap: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.version === true) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  process.stdout.write(HELP);
  return values.help === true ? 0 : 2;
}

process.exitCode = await main(process.argv.slice(2));
