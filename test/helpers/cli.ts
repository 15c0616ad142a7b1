// Runs the built `isoswap` command as a user would, and reads what it prints.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const TICK = 'int32_t do_tick(int32_t)';
/** Every wait for the command's output gives up after this long. */
const WAIT_MS = 20_000;

export type Event = Record<string, unknown> & { event: string };

/** `isoswap` spawned with node (or `file` with `args`); its JSON lines (or text) collected as they come. */
export class Cli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly events: Event[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  #waiters: Array<() => void> = [];

  constructor(args: string[], cwd?: string, script = MAIN, file = process.execPath) {
    this.child = spawn(file, file === process.execPath ? [script, ...args] : args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let partial = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) this.events.push(JSON.parse(line) as Event);
      this.#wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString(); this.#wake(); });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => { this.#wake(); resolve(code); }));
  }

  /** The first event after index `from` that `pred` accepts; fails after 20 s. */
  async next(pred: (e: Event) => boolean, from = 0): Promise<Event> {
    let next = from; // each event is looked at once: there may be 200 k of them
    let found: Event | undefined;
    await this.until(() => {
      for (; found === undefined && next < this.events.length; next++) if (pred(this.events[next]!)) found = this.events[next];
      return found !== undefined;
    }, 'no such event');
    return found!;
  }

  /** Waits until stdout contains `text`. */
  printed(text: string): Promise<void> {
    let from = 0;
    return this.until(() => {
      if (this.stdout.includes(text, from)) return true;
      from = Math.max(0, this.stdout.length - text.length);
      return false;
    }, `"${text}" never printed`);
  }

  /** Waits until `done()` holds; fails after 20 s or when the command exits first. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!done()) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`${what}; got:\n${this.stdout.slice(-4000)}\nstderr:\n${this.stderr.slice(-4000)}`);
      await new Promise<void>((wake) => { this.#waiters.push(wake); setTimeout(wake, 200); });
    }
  }

  async interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

export const isCall = (result: number) => (e: Event): boolean => e.event === 'call' && e.result === result;

/** Writes `bytes` beside `library` and renames them into place, as a linker does. */
export async function save(library: string, bytes: Buffer): Promise<void> {
  await writeFile(`${library}.new`, bytes);
  await rename(`${library}.new`, library);
}

/** The live processes (not zombies) whose process group is `pgid`. */
export async function processesInGroup(pgid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== undefined && state !== 'Z' && Number(pgrp) === pgid) found.push(Number(name));
  }
  return found;
}
