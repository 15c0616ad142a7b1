import { basename } from 'node:path';
import { inspect, styleText } from 'node:util';
import type { IsoswapError } from '../errors.js';
import type { SwapEvent } from '../events.js';
import type { VersionInfo } from '../version/version-info.js';
import type { CliStream, OutputStream } from './output-capture.js';
import type { BuildReport, Reporter } from './reporter.js';

type Style = Parameters<typeof styleText>[0];

/** How often the live status line is redrawn at most. */
const STATUS_EVERY_MS = 100;
/** Carriage return + erase the line: the status line is gone, the cursor at column 0. */
const CLEAR_LINE = '\r\x1b[2K';

/**
 * Output for people: a line per load, swap, retirement, build and error, and the
 * library's own lines. Call results (and a build's elapsed time) go to a status line
 * redrawn in place when stdout is a terminal, below every other line; otherwise a result
 * is printed only when it differs from that function's last one, not once per call.
 */
export class HumanReporter implements Reporter {
  readonly #live: boolean;
  #serving = '';
  #calls = 0;
  readonly #last = new Map<string, string>();
  #drawnAt = 0;
  #building: { since: number; timer: NodeJS.Timeout | null } | null = null;

  constructor(private readonly out: CliStream, private readonly err: CliStream) {
    this.#live = out.isTTY === true;
  }

  load(version: VersionInfo, ms: number): void {
    this.#serving = `v${version.id} ${short(version)}`;
    this.#line(`${this.#paint('green', 'serving')} ${this.#serving} ${basename(version.library)} ${this.#paint('dim', `(loaded in ${ms.toFixed(1)} ms)`)}`);
  }

  call(fn: string, args: unknown[], result: unknown): void {
    this.#calls++;
    const text = `${fn}(${args.map((a) => inspect(a)).join(', ')})${result === undefined ? '' : ` = ${inspect(result)}`}`;
    const changed = this.#last.get(fn) !== text;
    this.#last.set(fn, text);
    if (!this.#live) {
      if (changed) this.#line(text);
      return;
    }
    const now = performance.now();
    if (!changed && now - this.#drawnAt < STATUS_EVERY_MS) return;
    this.#drawnAt = now;
    this.#draw();
  }

  swap({ from, to, ms, reason }: SwapEvent): void {
    this.#serving = `v${to.id} ${short(to)}`;
    this.#line(`${this.#paint('green', 'swap')} v${from.id} → ${this.#serving} in ${ms.toFixed(1)} ms ${this.#paint('dim', `(${reason})`)}`);
  }

  retired(version: VersionInfo): void {
    this.#line(this.#paint('dim', `retired v${version.id} ${short(version)}`));
  }

  error(error: IsoswapError): void {
    this.#endBuilding();
    this.#line(`${this.#paint('red', 'error', this.err)} ${this.#paint('bold', error.code, this.err)} ${error.message}`, this.err);
    const output = error.details['output'];
    if (typeof output === 'string' && output.trim() !== '') {
      this.#line(output.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'), this.err);
    }
  }

  building(command: string): void {
    this.#endBuilding();
    // On a terminal the status line counts the seconds; piped, one line says it started.
    const timer = this.#live ? setInterval(() => this.#draw(), 250).unref() : null;
    this.#building = { since: performance.now(), timer };
    if (this.#live) this.#draw();
    else this.#line(this.#paint('dim', `building… ${command}`));
  }

  build({ ms }: BuildReport): void {
    this.#endBuilding();
    this.#line(`${this.#paint('green', 'built')} in ${(ms / 1000).toFixed(2)} s`);
  }

  unchanged(version: VersionInfo): void {
    this.#line(this.#paint('dim', `unchanged, v${version.id} still serving`));
  }

  waiting(reason: string): void {
    this.#line(this.#paint('yellow', `waiting: ${reason}`));
  }

  output(stream: OutputStream, text: string): void {
    this.#line(text, stream === 'stdout' ? this.out : this.err);
  }

  close(): void {
    this.#endBuilding();
    this.#clear();
    this.#calls = 0; // no status line any more
  }

  #endBuilding(): void {
    if (this.#building?.timer != null) clearInterval(this.#building.timer);
    this.#building = null;
  }

  #paint(style: Style, text: string, stream: CliStream = this.out): string {
    // plain when the stream has no colors (NO_COLOR, a pipe)
    return styleText(style, text, { stream: stream });
  }

  #line(text: string, stream: CliStream = this.out): void {
    this.#clear();
    stream.write(`${text}\n`);
    this.#draw();
  }

  #draw(): void {
    if (!this.#live || (this.#calls === 0 && this.#building === null)) return;
    const building = this.#building === null ? [] : [`building… ${((performance.now() - this.#building.since) / 1000).toFixed(1)} s`];
    const parts = this.#calls === 0 ? building : [this.#serving, ...building, ...this.#last.values(), `${this.#calls} calls`];
    const columns = this.out.columns ?? 0;
    const width = columns > 1 ? columns - 1 : 79; // a wrapped line could not be cleared
    this.out.write(`${CLEAR_LINE}${parts.join(' · ').slice(0, width)}`);
  }

  #clear(): void {
    if (this.#live) this.out.write(CLEAR_LINE);
  }
}

function short(version: VersionInfo): string {
  return version.sha256.slice(0, 8);
}
