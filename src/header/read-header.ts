import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { IsoswapError } from '../errors.js';
import { readCHeader } from './c-header.js';
import type { DeclaredFunction } from './declared-function.js';
import { readRustSource } from './rust-source.js';

/**
 * The functions a `header` file exports: a Rust source file (`.rs`), or else a C header
 * (or C source). Rejects with ERR_HEADER when the file is missing, not a regular file or
 * does not parse; `timeoutMs` bounds the C preprocessor (preprocess.ts).
 */
export async function readHeader(file: string, timeoutMs?: number): Promise<DeclaredFunction[]> {
  const found = await stat(file).catch(() => null);
  if (found === null) throw new IsoswapError('ERR_HEADER', `header ${file} does not exist`, { file });
  // A FIFO would wait for a writer, a device read for ever: only a file is read.
  if (!found.isFile()) throw new IsoswapError('ERR_HEADER', `header ${file} is not a regular file (a FIFO, a device, a directory)`, { file });
  return extname(file) === '.rs' ? readRustSource(file) : readCHeader(file, timeoutMs);
}

/**
 * The ERR_HEADER for a function whose types cannot be mapped, naming its line.
 */
export function unmappable(file: string, fn: DeclaredFunction & { problem: string }): IsoswapError {
  return new IsoswapError('ERR_HEADER', `${file}:${fn.line}: ${fn.name}: ${fn.problem}`, { file, line: fn.line, function: fn.name });
}
