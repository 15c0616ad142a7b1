// The README is a contract too: its first commands, its error codes and its events must
// be the ones the code has, or a new user is misled.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ERROR_CODES, HOST_EVENTS } from '../src/index.js';

const README = new URL('../../README.md', import.meta.url);
const PACKAGE = new URL('../../package.json', import.meta.url);

/** The first column of the table under `## heading`, backticks removed. */
function firstColumn(readme: string, heading: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  assert.ok(section !== undefined, `a "## ${heading}" section`);
  return section.split('\n').flatMap((line) => /^\| `([^`]+)` \|/.exec(line)?.[1] ?? []);
}

test('the README opens for a user (install, a first program, the CLI) and keeps the two contributor commands', async () => {
  const readme = await readFile(README, 'utf8');
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  assert.deepEqual(headings.slice(0, 3), ['Install', 'A first program', 'Command line']);
  assert.match(readme.split(/^## /m).find((s) => s.startsWith('Install\n')) ?? '', /^npm install isoswap$/m);
  const development = readme.split(/^## /m).find((s) => s.startsWith('Development\n')) ?? '';
  const commands = /```sh\n([\s\S]*?)```/.exec(development)?.[1] ?? '';
  assert.match(commands, /^npm install && npm run demo\b/m);
  assert.match(commands, /^npm test\b/m);
  const { scripts } = JSON.parse(await readFile(PACKAGE, 'utf8')) as { scripts: Record<string, string> };
  assert.match(scripts['demo'] ?? '', /dist\/examples\/game-loop\.js/);
  assert.ok(scripts['test'] !== undefined);
});

test('the README lists every error code and every event, and no other', async () => {
  const readme = await readFile(README, 'utf8');
  assert.deepEqual(firstColumn(readme, 'Errors').sort(), Object.keys(ERROR_CODES).sort());
  assert.deepEqual(firstColumn(readme, 'Events').sort(), Object.values(HOST_EVENTS).sort());
});
