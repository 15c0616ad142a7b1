import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { IsoswapError } from '../errors.js';
import { platform } from '../platform/platform.js';

/** A header whose preprocessing takes longer (it includes a FIFO, a macro expands without
 *  end) is refused and its compiler killed, the whole process group (cc runs cc1); a host
 *  gives its `loadTimeoutMs` instead, unless that is 0. */
const PREPROCESS_TIMEOUT_MS = 20_000;
/** The most the preprocessor may write; past it, the same. */
const PREPROCESS_MAX_BYTES = 64 * 1024 * 1024;
/** A shell's status when the command was not found. */
const NOT_FOUND = 127;

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
 * `$CC` is a shell word list as make reads it (`gcc -std=c11`, `ccache gcc`). Rejects
 * with ERR_HEADER when the preprocessor fails (its message names the line), or runs past
 * `timeoutMs` (default PREPROCESS_TIMEOUT_MS) or writes more than PREPROCESS_MAX_BYTES (it is
 * killed).
 */
export async function preprocessHeader(file: string, timeoutMs?: number): Promise<HeaderText> {
  const cc = process.env['CC']?.trim() || 'cc';
  const output = await runPreprocessor(cc, file, timeoutMs || PREPROCESS_TIMEOUT_MS);
  if (output === null) return { text: await readFile(file, 'utf8'), lineOf: (row) => row + 1, raw: true };
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

/**
 * `cc -E -x c file` in a shell, in a process group of its own: its output, or null when
 * the shell found no such command. Killed (the group: cc and cc1) at the deadline or past
 * the output cap.
 */
function runPreprocessor(cc: string, file: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    // make hands `$(CC)` to the shell, which splits it; the file is one quoted word.
    const tree = platform().processTree();
    const child = spawn(`${cc} -E -x c ${platform().shellWord(file)}`, { shell: true, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) tree.adopt(child.pid);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let killed: string | null = null;
    const kill = (why: string): void => {
      killed ??= why;
      tree.end('SIGKILL');
    };
    const timer = setTimeout(() => kill(`did not finish within ${timeoutMs} ms (it reads a FIFO or a device, or a macro expands without end?)`),
      timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > PREPROCESS_MAX_BYTES) kill(`wrote more than ${PREPROCESS_MAX_BYTES} bytes (a macro that expands without end?)`);
      else if (killed === null) chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-16 * 1024); });
    child.on('error', (err) => { clearTimeout(timer); reject(new IsoswapError('ERR_HEADER', `the C preprocessor (${cc} -E) could not start: ${err.message}`, { file, cc })); });
    child.on('close', (code) => {
      clearTimeout(timer);
      tree.release();
      if (killed !== null) {
        reject(new IsoswapError('ERR_HEADER', `the C preprocessor (${cc} -E) on ${file} ${killed}; it was killed`, { file, cc, timeoutMs }));
      } else if (code === NOT_FOUND && bytes === 0) {
        resolve(null);
      } else if (code !== 0) {
        reject(new IsoswapError('ERR_HEADER', `the C preprocessor (${cc} -E) failed on ${file}:\n${stderr.trim()}`, { file, cc }));
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
  });
}
