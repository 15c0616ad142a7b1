import { relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';

/**
 * What `--build` never rebuilds for, before the user's `--ignore`s: build products and
 * tool folders, logs, dot files (editors' swap files, isoswap's own `.isoswap-*` copies).
 */
export const DEFAULT_IGNORES = [
  'target/', '.git/', 'node_modules/', 'dist/', 'build/', '.isoswap-*', '.*',
  '*.log', '*.o', '*.a', '*.so', '*.d', '*.tmp', '*.swp', '*~', '*.lock',
];

/**
 * Which paths under a source folder are not sources, gitignore-style: a glob without a
 * `/` matches a file or folder name at any depth (`*.log`, `target/`), one with a `/` in
 * it matches from `src` (`gen/**`); a folder that matches hides all it holds.
 */
export class IgnoreRules {
  readonly #src: string;
  readonly #names: Array<(name: string) => boolean> = [];
  readonly #paths: Array<(path: string) => boolean> = [];
  readonly #files: Set<string>;

  constructor(src: string, globs: string[], files: string[]) {
    this.#src = resolve(src);
    this.#files = new Set(files.map((f) => resolve(f)));
    for (const glob of [...DEFAULT_IGNORES, ...globs]) {
      const pattern = glob.replace(/\/+$/, '');
      const match = picomatch(pattern.replace(/^\//, ''), { dot: true });
      (pattern.includes('/') ? this.#paths : this.#names).push(match);
    }
  }

  /** True for an absolute path under `src` that must start no build. */
  ignores(path: string): boolean {
    const absolute = resolve(path);
    if (this.#files.has(absolute)) return true;
    const rel = relative(this.#src, absolute);
    if (rel === '' || rel.startsWith('..')) return false;
    const names = rel.split(sep);
    if (names.some((name) => this.#names.some((match) => match(name)))) return true;
    return names.some((_, i) => {
      const prefix = names.slice(0, i + 1).join('/');
      return this.#paths.some((match) => match(prefix));
    });
  }
}
