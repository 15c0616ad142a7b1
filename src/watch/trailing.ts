import { fileStamp } from './settle.js';

// chokidar 5 drops every further `change` of a path for 50 ms after it emits one, with
// no trailing event (measured: a second rename-into-place 20 ms after the first is never
// reported). A stat of the path just after that window finds what it dropped.
const CHOKIDAR_THROTTLE_MS = 50;
const CHECK_AFTER_MS = CHOKIDAR_THROTTLE_MS + 10;

/**
 * Finds the changes chokidar swallowed: for each path it reported, the file is stat'ed
 * when the event arrives and again once the throttle window has passed; if it moved in
 * between, `onMissed(path)` is called as if chokidar had reported it. (The library
 * watcher needs none: it listens to chokidar's raw events for its one file. A source
 * tree's raw events name files relative to whichever watch saw them.)
 */
export class TrailingCheck {
  readonly #checks = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(private readonly onMissed: (path: string) => void) {}

  /**
   * Call for every event chokidar reports for `path`.
   */
  seen(path: string): void {
    if (this.#closed) return;
    clearTimeout(this.#checks.get(path));
    const before = fileStamp(path).catch(() => null);
    this.#checks.set(path, setTimeout(() => {
      this.#checks.delete(path);
      void Promise.all([before, fileStamp(path).catch(() => null)]).then(([then, now]) => {
        if (!this.#closed && now !== then) this.onMissed(path);
      });
    }, CHECK_AFTER_MS));
  }

  /**
   * Cancels the checks not yet made; `onMissed` is not called any more.
   */
  close(): void {
    this.#closed = true;
    for (const timer of this.#checks.values()) clearTimeout(timer);
    this.#checks.clear();
  }
}
