import { CrashPolicy } from './crash-policy.js';
import { IsoswapError } from '../errors.js';
import { HOST_EVENTS, type HostEmitter } from '../events.js';
import { failureOf } from '../version/load-info.js';
import type { ResolvedOptions } from '../options.js';
import type { Version } from '../version/version.js';
import type { VersionFactory } from '../version/version-factory.js';
import { CrashRestart, type CrashRestartContext } from './crash-restart.js';
import type { RecoveringQueue } from './swap-contract.js';

/**
 * What follows the death of the serving version (or its kill for a call past
 * callTimeoutMs): report it, hold new calls, then start its build again, or roll back
 * when that build keeps crashing (CrashRestart, which a blocked callSync may drive). The
 * new version is told how the old one failed.
 */
export class CrashRecovery {
  readonly #policy: CrashPolicy;
  readonly #ctx: CrashRestartContext;
  readonly #library: string;

  constructor(queue: RecoveringQueue, versions: VersionFactory, host: HostEmitter, opts: ResolvedOptions) {
    const { drainTimeoutMs, hookTimeoutMs, library } = opts;
    // A fleet member never rolls back alone: only its fleet does (docs/fleet.md).
    this.#ctx = { queue, versions, host, drainTimeoutMs, hookTimeoutMs, rollsBack: opts.fleet === undefined };
    this.#library = library;
    this.#policy = new CrashPolicy(opts.crashPolicy.max, opts.crashPolicy.windowMs);
  }

  /** The serving version died, or outlived a deadline: what a version's faults reach. */
  onCrash(version: Version, error: IsoswapError): void {
    const queue = this.#ctx.queue;
    if (version.status === 'loading') version.status = 'crashed'; // prepared, not serving: its commit refuses it
    if (version !== queue.current || queue.closed) return; // a retiring version: its calls already rejected
    version.status = 'crashed';
    // Calls made from here on (a crash listener's too) wait for the restart (or rollback)
    // instead of failing on a dead version; if none serves after it, they reach the
    // crashed one and reject.
    const release = queue.gate.hold();
    const crashed = error.code === 'ERR_CALL_TIMEOUT' || error.code === 'ERR_HOOK_TIMEOUT' ? error
      : new IsoswapError('ERR_VERSION_CRASHED', `version ${version.id} (${this.#library}) crashed: ${error.message}`,
        { phase: version.phase, ...error.details, version: version.id, file: this.#library });
    const bytes = version.artifact.bytes;
    const restart = new CrashRestart(this.#ctx, version, bytes, bytes !== null && this.#policy.shouldRestart(version.artifact.sha256), failureOf(crashed), release);
    this.#ctx.host.emit(HOST_EVENTS.CRASH, { version: version.info, error: crashed });
    this.#ctx.host.reportError(crashed);
    void queue.enqueue(() => restart.run());
  }
}
