/**
 * One soak: the members that serve the new build (the canary waves) against the rest,
 * failures counted per member from its start. It ends when `soakMs` passes, or at once
 * when the canary's failures per member exceed the rest's by more than `margin`.
 */
export class Soak {
  readonly #failures = new Map<string, number>();
  #end: ((failed: boolean) => void) | null = null;

  constructor(private readonly canary: ReadonlySet<string>, private readonly rest: ReadonlySet<string>, private readonly margin: number) {}

  /** Resolves true when the canary failed, false when it served `soakMs` well. */
  run(soakMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#finish(false), soakMs);
      this.#end = (failed) => { clearTimeout(timer); this.#end = null; resolve(failed); };
      this.#check(); // failures counted before it started (a canary that crashed at once)
    });
  }

  /** A crash, an error, or a member lost while it crashed. */
  count(member: string): void {
    this.#failures.set(member, (this.#failures.get(member) ?? 0) + 1);
    this.#check();
  }

  /** Failures per member: the canary's, the rest's. */
  get rates(): { canary: number; rest: number } {
    return { canary: this.#rate(this.canary), rest: this.#rate(this.rest) };
  }

  #rate(members: ReadonlySet<string>): number {
    let sum = 0;
    for (const member of members) sum += this.#failures.get(member) ?? 0;
    return members.size === 0 ? 0 : sum / members.size;
  }

  #check(): void {
    const { canary, rest } = this.rates;
    if (canary - rest > this.margin) this.#finish(true);
  }

  #finish(failed: boolean): void {
    this.#end?.(failed);
  }
}
