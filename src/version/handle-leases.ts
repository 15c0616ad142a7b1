import { IsoswapError } from '../errors.js';

/**
 * The live handles of one version (objects an addon made, held by the host): while there
 * are any, the version is not torn down, as Erlang keeps old code while a process still
 * runs it. They end all at once: released one by one to zero, past the handle timeout,
 * at a state hand-over, when too many old versions are kept, or at close().
 */
export class HandleLeases {
  #count = 0;
  #ended: IsoswapError | null = null;
  #idle: (() => void)[] = [];
  readonly #onEnd: ((reason: IsoswapError) => void)[] = [];

  constructor(private readonly version: number, private readonly library: string) {}

  get count(): number {
    return this.#ended === null ? this.#count : 0;
  }

  /** Why the handles ended, or null while they live. */
  get ended(): IsoswapError | null {
    return this.#ended;
  }

  /** One more live handle; the function releases it (once). */
  take(): () => void {
    if (this.#ended !== null) throw this.#ended;
    this.#count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#count--;
      if (this.#count === 0) this.#wake();
    };
  }

  /** `listener` is told when the handles end (to drop what the host keeps for them). */
  onEnd(listener: (reason: IsoswapError) => void): void {
    this.#onEnd.push(listener);
  }

  /** Ends every handle: later calls on them reject with ERR_VERSION_RETIRED (`why`). */
  end(why: string): void {
    if (this.#ended !== null) return;
    this.#ended = new IsoswapError('ERR_VERSION_RETIRED', `version ${this.version} of ${this.library} has ended (${why}): its handles no longer answer`,
      { version: this.version, file: this.library, reason: why });
    for (const listener of this.#onEnd) listener(this.#ended);
    this.#wake();
  }

  /** Resolves once no handle lives (ended ones count as none); past `timeoutMs` (0: no
   *  limit) they are ended. */
  async released(timeoutMs: number): Promise<void> {
    if (this.count === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#idle.push(resolve);
      if (timeoutMs > 0) timer = setTimeout(() => this.end(`its handles were held past handleTimeoutMs (${timeoutMs} ms)`), timeoutMs).unref();
    });
    clearTimeout(timer);
  }

  #wake(): void {
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}
