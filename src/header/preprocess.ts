import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { IsoswapError } from '../errors.js';

const run = promisify(execFile);

/** A C header as the parser reads it, and where each of its lines came from. */
export interface HeaderText {
  text: string;
  /** The header's own line for a 0-based row of `text`, or undefined for a row that came
   *  from an included file (whose declarations are not the library's). */
  lineOf(row: number): number | undefined;
  /** Set when no C compiler was found: the file is read as written, macros unexpanded. */
  raw: boolean;
}

// cc -E line markers: `# 12 "game.h" 2`. They name each line's file and line, so that
// errors can name the header's line and declarations from <stdio.h> etc. stay out.
const LINE_MARKER = /^# (\d+) "((?:[^"\\]|\\.)*)"/;

/**
 * Runs the C preprocessor (`$CC`, else `cc`: `-E -x c`) over a header, so that export
 * macros are expanded and `bool` is `_Bool`; with no compiler on the PATH, the raw file.
 * Rejects with ERR_HEADER when the preprocessor fails (its message names the line).
 *
 * @example
 * const { text, lineOf } = await preprocessHeader('/src/game.h');
 */
export async function preprocessHeader(file: string): Promise<HeaderText> {
  const cc = process.env['CC'] || 'cc';
  let output: string;
  try {
    ({ stdout: output } = await run(cc, ['-E', '-x', 'c', file], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    const { code, stderr } = err as { code?: unknown; stderr?: string };
    if (code === 'ENOENT') return { text: await readFile(file, 'utf8'), lineOf: (row) => row + 1, raw: true };
    throw new IsoswapError('ERR_HEADER', `the C preprocessor (${cc} -E) failed on ${file}:\n${(stderr ?? String(err)).trim()}`, { file, cc });
  }
  const lines = output.split('\n');
  const origin: Array<number | undefined> = [];
  let current: string | undefined;
  let next = 0;
  for (let row = 0; row < lines.length; row++) {
    const marker = LINE_MARKER.exec(lines[row]!);
    if (marker !== null) {
      current = marker[2]!.replace(/\\(.)/g, '$1');
      next = Number(marker[1]);
      lines[row] = ''; // a blank line keeps rows aligned and may sit inside a declaration
      continue;
    }
    origin[row] = current === file ? next : undefined;
    next++;
  }
  return { text: lines.join('\n'), lineOf: (row) => origin[row], raw: false };
}
