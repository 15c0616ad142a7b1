import { setTimeout as sleep } from 'node:timers/promises';
import { IsoswapError } from '../errors.js';
import type { IsolatedHost } from '../host/isolated-host.js';
import { callArgs } from './call-args.js';
import type { Reporter } from './reporter.js';
import type { CallPlan } from './run-options.js';

/**
 * The calls `isoswap run` makes: a tick (every function once, in order) every N ms, or
 * one each time a version starts serving. Ticks are numbered from 0 for `{tick}`.
 */
export class RunSession {
  readonly #stop = new AbortController();
  #calls: Promise<void> = Promise.resolve();
  #tick = 0;

  constructor(private readonly host: IsolatedHost, private readonly calls: CallPlan[], private readonly everyMs: number | null, private readonly reporter: Reporter) {}

  start(): void {
    this.#calls = this.everyMs === null ? this.#tickOnce() : this.#tickEvery(this.everyMs);
  }

  /** Without --every, the new version gets its tick. */
  afterSwap(): void {
    if (this.everyMs === null) this.#calls = this.#calls.then(() => this.#tickOnce());
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#calls;
  }

  async #tickEvery(ms: number): Promise<void> {
    const { signal } = this.#stop;
    while (!signal.aborted) {
      const started = performance.now();
      await this.#tickOnce();
      await sleep(Math.max(0, ms - (performance.now() - started)), undefined, { signal }).catch(() => {});
    }
  }

  async #tickOnce(): Promise<void> {
    const tick = this.#tick++;
    for (const { name, args } of this.calls) {
      if (this.#stop.signal.aborted) return;
      const values = callArgs(args, tick);
      try {
        this.reporter.call(name, values, await this.host.call(name, ...values));
      } catch (err) {
        this.reporter.error(IsoswapError.from(err, 'ERR_INVALID_OPTIONS', `calling ${name}`));
      }
    }
  }
}
