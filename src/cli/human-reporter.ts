import { basename } from 'node:path';
import { inspect, styleText } from 'node:util';
import type { IsoswapError } from '../errors.js';
import type { SwapEvent } from '../events.js';
import type { VersionInfo } from '../version/version-info.js';
import type { BuildReport, Reporter } from './reporter.js';

type Style = Parameters<typeof styleText>[0];

/** How often the live status line is redrawn at most. */
const STATUS_EVERY_MS = 100;

/**
 * Output for people: a line per load, swap, retirement and error. Call results go to a
 * status line redrawn in place when stdout is a terminal; otherwise a result is printed
 * only when it differs from that function's last one, not once per call.
 *
 * @example
 * const r = new HumanReporter(process.stdout, process.stderr);
 * r.load(host.current, 35);
 */
export class HumanReporter implements Reporter {
  readonly #live: boolean;
  #serving = '';
  #calls = 0;
  readonly #last = new Map<string, string>();
  #drawnAt = 0;

  constructor(private readonly out: NodeJS.WriteStream, private readonly err: NodeJS.WriteStream) {
    this.#live = out.isTTY === true;
  }

  load(version: VersionInfo, ms: number): void {
    this.#serving = `v${version.id} ${short(version)}`;
    this.#line(`${this.#paint('green', 'serving')} ${this.#serving} ${basename(version.library)} ${this.#paint('dim', `(loaded in ${ms.toFixed(1)} ms)`)}`);
  }

  call(fn: string, args: unknown[], result: unknown): void {
    this.#calls++;
    const text = `${fn}(${args.map((a) => inspect(a)).join(', ')}) = ${inspect(result)}`;
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
    this.#line(`${this.#paint('red', 'error', this.err)} ${this.#paint('bold', error.code, this.err)} ${error.message}`, this.err);
    const output = error.details['output'];
    if (typeof output === 'string' && output.trim() !== '') {
      this.#line(output.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'), this.err);
    }
  }

  build({ ms }: BuildReport): void {
    this.#line(`${this.#paint('green', 'built')} in ${(ms / 1000).toFixed(2)} s`);
  }

  close(): void {
    this.#clear();
    this.#calls = 0; // no status line any more
  }

  #paint(style: Style, text: string, stream: NodeJS.WriteStream = this.out): string {
    return styleText(style, text, { stream }); // plain when the stream has no colors (NO_COLOR, a pipe)
  }

  #line(text: string, stream: NodeJS.WriteStream = this.out): void {
    this.#clear();
    stream.write(`${text}\n`);
    this.#draw();
  }

  #draw(): void {
    if (!this.#live || this.#calls === 0) return;
    this.#clear();
    const status = [this.#serving, ...this.#last.values(), `${this.#calls} calls`].join(' · ');
    const width = this.out.columns > 1 ? this.out.columns - 1 : 79; // a wrapped line could not be cleared
    this.out.write(status.slice(0, width));
  }

  #clear(): void {
    if (!this.#live) return;
    this.out.clearLine(0);
    this.out.cursorTo(0);
  }
}

function short(version: VersionInfo): string {
  return version.sha256.slice(0, 8);
}
