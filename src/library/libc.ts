import koffi, { type LibraryHandle } from 'koffi';

let handle: LibraryHandle | null = null;

/**
 * The C library, through koffi, for what Node does not offer (mmap, blocking pipes,
 * poll, gettid, prctl). Loaded once per thread: dlopen of it only counts a reference.
 *
 * @example
 * const gettid = libc().func('int gettid(void)');
 */
export function libc(): LibraryHandle {
  handle ??= koffi.load(process.platform === 'darwin' ? 'libSystem.dylib' : 'libc.so.6');
  return handle;
}
