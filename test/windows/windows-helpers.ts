// What the Windows lane's tests share: fixture DLLs installed the way a linker does
// (written beside, renamed into place), temp dirs, and the files a host leaves.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsoswapError } from '../../src/index.js';
import { fixturePath } from './dll-fixtures.js';

const dirs: string[] = [];

/** A fresh temp dir, removed by {@link removeDirs}. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'isoswap-win-'));
  dirs.push(dir);
  return dir;
}

/** Removes every dir {@link tempDir} made. */
export function removeDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}

/** How often a rename onto a file someone has open for a moment is tried again. */
const RENAME_TRIES = 40;

/**
 * Installs fixture `name` (`tick2.dll`) at `target`: a side file renamed into place, as a
 * linker does. Wine refuses a rename onto a file that another handle has open, even one
 * shared for deletion (a watcher's stat or read of the old build; Windows allows it): the
 * rename is tried again, a bounded number of times, as a build tool retries.
 */
export function install(name: string, target: string): string {
  const side = `${target}.tmp`;
  copyFileSync(fixturePath(name), side);
  for (let attempt = 1; ; attempt++) {
    try {
      renameSync(side, target);
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || attempt === RENAME_TRIES) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}

/** The files a host wrote in `dir` (copies and lock files). */
export function hostFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('.isoswap-'));
}

/** Asserts that `promise` rejects with an IsoswapError of `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<IsoswapError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => { caught = err; return true; });
  assert.ok(caught instanceof IsoswapError, `not an IsoswapError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Whether process `pid` runs (signal 0: Node opens it and looks). */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
