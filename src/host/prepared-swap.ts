import { IsoswapError } from '../errors.js';
import type { SwapReason } from '../events.js';
import type { Version } from '../version/version.js';
import type { VersionInfo } from '../version/version-info.js';
import type { SwapQueue } from './swap-queue.js';

/** What `host.prepare()` loads, and the checks beyond the load's own. */
export interface PrepareOptions {
  /** The build to prepare; default: the bytes at `library` now. */
  bytes?: Buffer | Uint8Array;
  /** A call the prepared build must answer (resolve, not reject or crash) before prepare
   *  resolves: `{ call: 'do_tick', args: [0] }`. Not with a state block or an
   *  `isoswap_state` section, whose load hook runs only at commit (ERR_INVALID_OPTIONS). */
  smoke?: { call: string; args?: unknown[] };
}

/**
 * A build loaded into a standby version and checked (complete file, symbols, signatures,
 * `isoswap_load`, the smoke call), not serving: `commit()` serves it, `discard()` drops it.
 * The current version serves meanwhile. With a state block (or an `isoswap_state` section)
 * `isoswap_load` can only run inside the hand-over, at commit, which may then still refuse.
 *
 * @example
 * const prepared = await host.prepare({ smoke: { call: 'do_tick', args: [0] } });
 * if (await looksRight(prepared.version)) await prepared.commit(); else await prepared.discard();
 */
export class PreparedSwap {
  #settled: 'prepared' | 'committed' | 'discarded' = 'prepared';

  /** @internal made by host.prepare() */
  constructor(
    private readonly queue: SwapQueue,
    private readonly next: Version,
    private readonly attached: boolean,
    private readonly reason: SwapReason,
    private readonly started: number,
  ) {}

  /** @internal loads, checks and smoke-calls a build after the swaps queued before it. */
  static async prepare(queue: SwapQueue, options: PrepareOptions, reason: SwapReason, sha256?: string): Promise<PreparedSwap> {
    const started = performance.now();
    const source = options.bytes === undefined ? 'file' : { bytes: Buffer.from(options.bytes.buffer, options.bytes.byteOffset, options.bytes.byteLength), sha256 };
    const { next, attached } = await queue.enqueue(() => queue.prepare(source, reason));
    const prepared = new PreparedSwap(queue, next, attached, reason, started);
    if (options.smoke !== undefined) {
      try {
        if (!attached) throw new IsoswapError('ERR_INVALID_OPTIONS', 'invalid options: `smoke` with a state block or an isoswap_state section: the build\'s isoswap_load runs only at commit', { option: 'smoke' });
        await next.call(options.smoke.call, options.smoke.args ?? []);
      } catch (err) {
        await prepared.discard();
        throw err;
      }
    }
    return prepared;
  }

  /** The standby version (status 'loading' until it serves). */
  get version(): VersionInfo {
    return this.next.info;
  }

  get state(): 'prepared' | 'committed' | 'discarded' {
    return this.#settled;
  }

  /**
   * Serves the prepared build (after the swaps queued before): resolves once it serves, the
   * old version draining in the background. Rejects (ERR_VERSION_CRASHED when the standby
   * died, ERR_LOAD_HOOK from a hand-over) with the current version still serving.
   */
  async commit(): Promise<VersionInfo> {
    this.#settle('committed');
    return this.queue.enqueue(() => this.queue.commitPrepared(this.next, this.attached, this.reason, this.started));
  }

  /** Drops the prepared build; the current version serves on. */
  async discard(): Promise<void> {
    this.#settle('discarded');
    await this.queue.discard(this.next);
  }

  #settle(to: 'committed' | 'discarded'): void {
    if (this.#settled !== 'prepared') {
      throw new IsoswapError('ERR_PREPARED_SETTLED', `version ${this.next.id} of ${this.next.artifact.library} was already ${this.#settled}`, { version: this.next.id, state: this.#settled });
    }
    this.#settled = to;
  }
}
