import koffi from 'koffi';

/** The kernel32 functions isoswap calls on Windows, declared once per thread on first use. */
export interface Kernel32 {
  /** Loads a DLL searching its own directory for its imports (LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR). */
  loadLibraryEx: (path: string, file: null, flags: number) => unknown;
  freeLibrary: (module: unknown) => number;
  /** The base address of a loaded module: an HMODULE is the address it was mapped at. */
  moduleBase: (path: string) => bigint | number;
  /** memcpy to and from a raw address (the isoswap_state section). */
  copyTo: (address: bigint, from: Uint8Array, bytes: number) => void;
  copyFrom: (to: Uint8Array, address: bigint, bytes: number) => void;
  getCurrentThreadId: () => number;
  /** A job object: a set of processes ended together (a build command's tree). */
  createJobObject: (attributes: null, name: null) => unknown;
  openProcess: (access: number, inherit: number, pid: number) => unknown;
  assignProcessToJobObject: (job: unknown, process: unknown) => number;
  terminateJobObject: (job: unknown, exitCode: number) => number;
  closeHandle: (handle: unknown) => number;
  getLastError: () => number;
}

let declared: Kernel32 | null = null;

/**
 * @example
 * const base = kernel32().moduleBase('C:\\game\\.isoswap-12-ab12cd-v1-0123456789ab-game.dll');
 */
export function kernel32(): Kernel32 {
  declared ??= (() => {
    const lib = koffi.load('kernel32.dll');
    return {
      loadLibraryEx: lib.func('void *LoadLibraryExW(const char16_t *path, void *file, uint32_t flags)') as Kernel32['loadLibraryEx'],
      freeLibrary: lib.func('int FreeLibrary(void *module)') as Kernel32['freeLibrary'],
      moduleBase: lib.func('GetModuleHandleW', 'uintptr_t', ['const char16_t *']) as Kernel32['moduleBase'],
      copyTo: lib.func('RtlMoveMemory', 'void', ['uintptr_t', 'const void *', 'size_t']) as Kernel32['copyTo'],
      copyFrom: lib.func('RtlMoveMemory', 'void', ['void *', 'uintptr_t', 'size_t']) as Kernel32['copyFrom'],
      getCurrentThreadId: lib.func('uint32_t GetCurrentThreadId(void)') as Kernel32['getCurrentThreadId'],
      createJobObject: lib.func('void *CreateJobObjectW(void *attributes, const char16_t *name)') as Kernel32['createJobObject'],
      openProcess: lib.func('void *OpenProcess(uint32_t access, int inherit, uint32_t pid)') as Kernel32['openProcess'],
      assignProcessToJobObject: lib.func('int AssignProcessToJobObject(void *job, void *process)') as Kernel32['assignProcessToJobObject'],
      terminateJobObject: lib.func('int TerminateJobObject(void *job, uint32_t exitCode)') as Kernel32['terminateJobObject'],
      closeHandle: lib.func('int CloseHandle(void *handle)') as Kernel32['closeHandle'],
      getLastError: lib.func('uint32_t GetLastError(void)') as Kernel32['getLastError'],
    };
  })();
  return declared;
}
