import type { IsoswapError } from '../errors.js';
import type { SwapEvent } from '../events.js';
import type { VersionInfo } from '../version/version-info.js';

/** A build run by `--build` that succeeded (a failed one is an ERR_BUILD_FAILED error). */
export interface BuildReport {
  command: string;
  ms: number;
}

/** What `isoswap run` tells its user, as lines for people or JSON for programs. */
export interface Reporter {
  load(version: VersionInfo, ms: number): void;
  call(fn: string, args: unknown[], result: unknown): void;
  swap(event: SwapEvent): void;
  retired(version: VersionInfo): void;
  error(error: IsoswapError): void;
  build(report: BuildReport): void;
  /** Ends the output (a live status line is cleared). */
  close(): void;
}
