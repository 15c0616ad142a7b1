// What a library prints, through `isoswap run`: captured (fds 1 and 2), never mixed
// into --json, never lost, and on a terminal above the status line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { Cli, MAIN, type Event } from './helpers/cli.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const LINES = 200_000;
const PRINTER = `#include <stdint.h>
#include <stdio.h>
int32_t spam(int32_t n) {
  for (int32_t i = 0; i < n; i++) printf("line %d\\n", i);
  fprintf(stderr, "done %d\\n", n);
  return n;
}
int32_t do_tick(int32_t t) { printf("hello from tick %d\\n", t); return t * 2; }
`;

for (const isolation of ['thread', 'process'] as const) {
  test(`--json, ${isolation} isolation: ${LINES} printed lines arrive as output events, in order, and every stdout line is JSON`, async () => {
    const library = await buildC(PRINTER);
    const cli = new Cli(['run', library, '--fn', `int32_t spam(int32_t)=${LINES}`, '--json', '--isolation', isolation]);
    await cli.next((e) => e.event === 'call' && e.result === LINES);
    assert.equal(await cli.interrupt(), 0, cli.stderr);
    const lines = cli.stdout.trimEnd().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Event); // throws on a line that is not JSON
    const printed = events.filter((e) => e.event === 'output' && e.stream === 'stdout').map((e) => e.text);
    assert.equal(printed.length, LINES);
    assert.ok(printed.every((text, i) => text === `line ${i}`), 'each line whole, in order');
    assert.ok(events.some((e) => e.event === 'output' && e.stream === 'stderr' && e.text === `done ${LINES}`));
    assert.equal(cli.stderr, '');
  });
}

/** Single-quoted for sh. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** The part of a terminal line left visible after the last erase-line. */
const visible = (line: string): string => line.split('\x1b[2K').at(-1)!.replace(/\r/g, '');

test('on a terminal (script -qfc): the library\'s lines print above the status line, Enter with unchanged bytes says so, Ctrl-C exits 0', async () => {
  const library = await buildC(PRINTER);
  const command = ['exec', process.execPath, MAIN, 'run', library, '--fn', 'int32_t do_tick(int32_t)', '--arg', '{tick}', '--every', '20', '--on-enter'].map(quote).join(' ').replace(/^'exec'/, 'exec');
  const term = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } });
  let screen = '';
  term.stdout.on('data', (chunk: Buffer) => { screen += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => term.on('close', resolve));
  const until = async (text: string): Promise<void> => {
    for (const deadline = Date.now() + 20_000; !screen.includes(text);) {
      assert.ok(Date.now() < deadline && term.exitCode === null, `"${text}" never shown:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    await until('hello from tick 5');
    term.stdin.write('\r'); // Enter
    await until('unchanged, v1 still serving');
    await until('hello from tick 8');
  } finally {
    term.stdin.write('\x03'); // Ctrl-C, through the terminal
  }
  assert.equal(await exited, 0, screen);
  const lines = screen.split('\n').map(visible);
  const hellos = lines.filter((l) => l.includes('hello from tick'));
  assert.ok(hellos.every((l) => /^hello from tick \d+$/.test(l)), `a library line shares a line with the status:\n${hellos.join('\n')}`);
  for (let tick = 0; tick <= 8; tick++) assert.ok(hellos.includes(`hello from tick ${tick}`), `tick ${tick} printed`);
  assert.ok(screen.includes('do_tick(') && screen.includes(' calls'), 'the status line was drawn');
  assert.ok(lines.includes('unchanged, v1 still serving'));
});

test('process isolation: a line printed in the child shows while it runs, not once 4 KiB have piled up', async () => {
  const library = await buildC(PRINTER);
  const cli = new Cli(['run', library, '--fn', 'int32_t do_tick(int32_t)', '--arg', '{tick}', '--every', '20', '--json', '--isolation', 'process']);
  try {
    await cli.next((e) => e.event === 'output' && e.text === 'hello from tick 3');
  } finally {
    assert.equal(await cli.interrupt(), 0, cli.stderr);
  }
});
