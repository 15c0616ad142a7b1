import type { RuntimeHandle } from './runtime-handle.js';

/**
 * Workers or child processes started ahead of need (runtime booted, koffi imported), so
 * that a swap or the restart after a crash costs copy + dlopen + validate instead of a
 * thread start (~30 ms) or a Node start (~70 ms). Each one taken is replaced after the
 * load that took it. Waiting ones are unref'd: they never keep the program alive;
 * `close()` ends them (nothing is left after `host.close()`).
 *
 * At most one start runs at a time (two on two cores took longer than one after the
 * other): a take() that finds the standby still starting takes it and its load waits for
 * it; one that finds none starts one itself, and no replacement starts until the load
 * that took it is done ({@link refill}).
 */
export class Standby<H extends RuntimeHandle> {
  readonly #ready: H[] = [];
  #closed = false;
  /** Handles started (standby, or taken cold by a load) that have not answered yet. */
  #starting = 0;
  #started = 0;
  #maxStarting = 0;
  /** Standby handles whose warm-up has settled: they owe no answer. */
  readonly #warmed = new WeakSet<H>();

  /**
   * @param spawn starts one handle
   * @param warm runs once on each new handle (a rehearsal load); resolves once it has
   *  started (or rejects: it died)
   * @param startable whether a standby may start now
   */
  constructor(private readonly size: number, private readonly spawn: () => H, private readonly warm: (handle: H) => Promise<unknown>,
    /** Whether a standby may start now (thread isolation: not while a guest holds the loader lock). */
    private readonly startable: () => boolean = () => true) {
    this.#fill();
  }

  /** A started handle, pre-started (or still starting) if one is waiting and alive. Call
   *  {@link refill} once the load that took it is done. */
  take(): H {
    let handle: H | undefined;
    while ((handle = this.#ready.shift()) !== undefined && !handle.alive);
    handle ??= this.#start(false);
    handle.ref();
    return handle;
  }

  /**
   * Starts a handle now for the load that is about to {@link take} it, when none waits or
   * is starting: the host prepares the load (hashes and copies the build) while the runtime
   * boots. Not warmed (a rehearsal would delay the real load) and unref'd until taken; if
   * no load takes it, it waits as the standby does.
   */
  prestart(): void {
    if (this.#closed || this.#starting > 0 || this.#ready.some((h) => h.alive) || !this.startable()) return;
    const handle = this.#start(false);
    handle.unref();
    this.#ready.push(handle);
  }

  /**
   * For a load sent on a blocking path (a restart a blocked callSync drives): a standby
   * handle whose warm-up has settled, else a new one. One still warming is left waiting:
   * its warm-up request is sent once the event loop sees it start, so it would reach the
   * library loaded meanwhile.
   */
  takeSettled(): H {
    const i = this.#ready.findIndex((h) => h.alive && this.#warmed.has(h));
    const handle = i < 0 ? this.#start(false) : this.#ready.splice(i, 1)[0]!;
    handle.ref();
    return handle;
  }

  /** Starts replacements for the handles taken: after the load that took them, not at
   *  take(), since on two cores a runtime starting beside the dlopen would slow it. Call it
   *  only while no load runs. */
  refill(): void {
    this.#fill();
  }

  /** Ends the waiting handles; later takes start fresh ones and none is replaced. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#ready.splice(0).map((h) => h.kill()));
  }

  /** Handles started so far (standby and cold), and the most ever starting at once. */
  get stats(): { started: number; maxStarting: number } {
    return { started: this.#started, maxStarting: this.#maxStarting };
  }

  /** A new handle, counted as starting until it answers: a standby's rehearsal settles,
   *  or (taken cold, for a load) it is ready. */
  #start(standby: boolean): H {
    this.#started++;
    this.#maxStarting = Math.max(this.#maxStarting, ++this.#starting);
    const handle = this.spawn();
    const started = (): void => {
      this.#starting--;
      if (standby) this.#warmed.add(handle);
      // The next one (size > 1) starts now; a taken one is replaced after its load.
      if (this.#ready.includes(handle)) this.#fill();
    };
    (standby ? this.warm(handle) : handle.ready).then(started, started);
    return handle;
  }

  #fill(): void {
    if (this.#closed || this.#ready.length >= this.size || this.#starting > 0 || !this.startable()) return;
    const handle = this.#start(true);
    handle.label = `standby ${handle.kind}`;
    handle.unref();
    this.#ready.push(handle);
  }
}
