/**
 * Decides what follows a crash of the serving version: start the same build again, or,
 * when that build keeps crashing (`limit` crashes within `windowMs`: the `crashPolicy`
 * option's `max` and `windowMs`), give up on it. Never a busy respawn loop.
 */
export class CrashPolicy {
  readonly #crashes = new Map<string, number[]>();

  constructor(private readonly limit: number, private readonly windowMs: number) {}

  /** Records a crash of the build `sha256`; true when it should be restarted. */
  shouldRestart(sha256: string, now = Date.now()): boolean {
    const recent = (this.#crashes.get(sha256) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.#crashes.set(sha256, recent);
    return recent.length < this.limit;
  }
}
