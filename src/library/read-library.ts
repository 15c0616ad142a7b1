import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import { IsoswapError } from '../errors.js';
import { libraryNotFound } from './discovery.js';

/** The largest library read into memory (a Rust debug build with full debug info is a few
 *  hundred MiB). Anything larger is refused before a byte is read. */
export const MAX_LIBRARY_BYTES = 1 << 30;

// Through libuv's thread pool every fs step of a small read costs more than the I/O itself
// (a visible part of a reload); a library up to 1 MiB is read synchronously, a larger
// one (a Rust debug build) without blocking the event loop.
export const SYNC_IO_LIMIT = 1 << 20;

const readAsync = promisify(read);

/**
 * Reads the library at `file`: only a regular file, at most MAX_LIBRARY_BYTES. It is
 * opened O_NONBLOCK and fstat'ed before any read, so a FIFO (whose open would wait for a
 * writer) or a device such as /dev/zero (endless, and `size` 0) is refused at once.
 */
export async function readLibrary(file: string): Promise<Buffer> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw openError(err as NodeJS.ErrnoException, file);
  }
  try {
    const size = regularFileSize(fstatSync(fd), file);
    const bytes = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) { // a file cut short while being read comes back short: the ELF check refuses it
      const n = size <= SYNC_IO_LIMIT ? readSync(fd, bytes, got, size - got, got) : (await readAsync(fd, bytes, got, size - got, got)).bytesRead;
      if (n === 0) break;
      got += n;
    }
    return bytes.subarray(0, got);
  } catch (err) {
    if (err instanceof IsoswapError) throw err;
    throw unreadable(err as NodeJS.ErrnoException, file);
  } finally {
    closeSync(fd);
  }
}

function regularFileSize(stats: Stats, file: string): number {
  const kind = stats.isDirectory() ? 'a directory' : stats.isFIFO() ? 'a FIFO' : stats.isCharacterDevice() ? 'a character device'
    : stats.isBlockDevice() ? 'a block device' : stats.isSocket() ? 'a socket' : stats.isFile() ? null : 'not a regular file';
  if (kind !== null) {
    throw new IsoswapError('ERR_NOT_A_LIBRARY', `${file} is not a loadable shared library: it is ${kind}, not a regular file`, { file });
  }
  if (stats.size > MAX_LIBRARY_BYTES) {
    throw new IsoswapError('ERR_LIBRARY_TOO_LARGE', `${file} is ${stats.size} bytes; isoswap reads libraries up to ${MAX_LIBRARY_BYTES} bytes`,
      { file, bytes: stats.size, limit: MAX_LIBRARY_BYTES });
  }
  return stats.size;
}

function openError(err: NodeJS.ErrnoException, file: string): IsoswapError {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return libraryNotFound(file, err);
  // open(2) of a socket is ENXIO; O_NONBLOCK makes a FIFO open at once (never ENXIO when reading)
  if (err.code === 'ENXIO') return new IsoswapError('ERR_NOT_A_LIBRARY', `${file} is not a loadable shared library: it is a socket`, { file }, { cause: err });
  return unreadable(err, file);
}

function unreadable(err: NodeJS.ErrnoException, file: string): IsoswapError {
  return new IsoswapError('ERR_LIBRARY_UNREADABLE', `cannot read ${file}: ${err.code ?? err.message}`, { file, errno: err.code }, { cause: err });
}
