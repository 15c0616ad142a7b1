import type { IsoswapError } from '../errors.js';
import type { SwapEvent } from '../events.js';
import type { VersionInfo } from '../version/version-info.js';
import type { OutputStream } from './output-capture.js';

/** A build run by `--build` that succeeded (a failed one is an ERR_BUILD_FAILED error). */
export interface BuildReport {
  command: string;
  ms: number;
}

/** What `isoswap run` tells its user, as lines for people or JSON for programs. */
export interface Reporter {
  load(version: VersionInfo, ms: number): void;
  /** `result` undefined: a void function. */
  call(fn: string, args: unknown[], result: unknown): void;
  swap(event: SwapEvent): void;
  retired(version: VersionInfo): void;
  error(error: IsoswapError): void;
  /** A build started. */
  building(command: string): void;
  build(report: BuildReport): void;
  /** Enter was pressed but the library's bytes are those `version` serves. */
  unchanged(version: VersionInfo): void;
  /** Nothing can be served yet: `reason` says what is awaited. */
  waiting(reason: string): void;
  /** A line the library printed. */
  output(stream: OutputStream, text: string): void;
  /** Ends the output (a live status line is cleared). */
  close(): void;
}
