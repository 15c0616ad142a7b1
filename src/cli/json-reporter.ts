import type { IsoswapError } from '../errors.js';
import type { SwapEvent } from '../events.js';
import type { VersionInfo } from '../version/version-info.js';
import type { OutputStream } from './output-capture.js';
import type { BuildReport, Reporter } from './reporter.js';

// int64 results come back from koffi as BigInt, which JSON.stringify refuses.
const bigintAsString = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/**
 * `--json`: one object a line on stdout, each with an `event` field; the library's own
 * lines are `output` events, so stdout stays JSON.
 */
export class JsonReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream) {}

  load(version: VersionInfo, ms: number): void {
    this.#emit({ event: 'load', version: version.id, sha256: version.sha256, library: version.library, ms: round(ms) });
  }

  call(fn: string, args: unknown[], result: unknown): void {
    this.#emit({ event: 'call', fn, args, result }); // a void call's result is left out
  }

  swap({ from, to, ms, reason, pauseMs }: SwapEvent): void {
    this.#emit({ event: 'swap', from: from.id, to: to.id, sha256: to.sha256, ms: round(ms), reason, pauseMs: pauseMs === undefined ? undefined : round(pauseMs) });
  }

  retired(version: VersionInfo): void {
    this.#emit({ event: 'retired', version: version.id, status: version.status });
  }

  error(error: IsoswapError): void {
    this.#emit({ event: 'error', code: error.code, message: error.message, details: error.details });
  }

  building(command: string): void {
    this.#emit({ event: 'building', command });
  }

  build({ command, ms }: BuildReport): void {
    this.#emit({ event: 'build', ok: true, command, ms: round(ms) });
  }

  unchanged(version: VersionInfo): void {
    this.#emit({ event: 'unchanged', version: version.id, sha256: version.sha256 });
  }

  waiting(reason: string): void {
    this.#emit({ event: 'waiting', reason });
  }

  output(stream: OutputStream, text: string): void {
    // The one event that can come 100 000 times a second: no replacer, no object.
    this.out.write(`{"event":"output","stream":"${stream}","text":${JSON.stringify(text)}}\n`);
  }

  close(): void {}

  #emit(record: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify(record, bigintAsString)}\n`);
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
