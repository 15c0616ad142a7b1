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
  /** Shared memory by name (process isolation's ring and state block): pagefile-backed
   *  sections, committed when made. */
  createFileMapping: (file: unknown, attributes: null, protect: number, sizeHigh: number, sizeLow: number, name: string) => unknown;
  openFileMapping: (access: number, inherit: number, name: string) => unknown;
  mapViewOfFile: (mapping: unknown, access: number, offsetHigh: number, offsetLow: number, bytes: number) => unknown;
  unmapViewOfFile: (address: unknown) => number;
  /** Named auto-reset events: process isolation's wake-ups (what a futex is on Linux). */
  createEvent: (attributes: null, manualReset: number, initialState: number, name: string) => unknown;
  openEvent: (access: number, inherit: number, name: string) => unknown;
  setEvent: (event: unknown) => number;
  waitForSingleObject: (handle: unknown, ms: number) => number;
  /** Named pipes, whose host end is read and written blocking. */
  createNamedPipe: (name: string, openMode: number, pipeMode: number, instances: number, outBytes: number, inBytes: number,
    timeoutMs: number, attributes: null) => unknown;
  connectNamedPipe: (pipe: unknown, overlapped: null) => number;
  peekNamedPipe: (pipe: unknown, buffer: null, bytes: number, read: null, available: Uint32Array, left: null) => number;
  readFile: (file: unknown, buffer: Uint8Array, bytes: number, read: Uint32Array, overlapped: null) => number;
  writeFile: (file: unknown, buffer: Uint8Array, bytes: number, written: Uint32Array, overlapped: null) => number;
  getExitCodeProcess: (process: unknown, code: Uint32Array) => number;
  /** Opens a file or the client end of a named pipe (`isoswap run`'s output capture). */
  createFile: (name: string, access: number, share: number, attributes: null, disposition: number, flags: number, template: null) => unknown;
  getCurrentProcess: () => unknown;
  duplicateHandle: (fromProcess: unknown, handle: unknown, toProcess: unknown, copy: unknown[], access: number, inherit: number, options: number) => number;
  /** The handles GetStdHandle answers (what code writing with WriteFile asks for). */
  getStdHandle: (which: number) => unknown;
  setStdHandle: (which: number, handle: unknown) => number;
  /** On a handle as a C runtime's `_get_osfhandle` gives it. */
  setHandleInformation: (handle: bigint | number, mask: number, flags: number) => number;
}

let declared: Kernel32 | null = null;

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
      createFileMapping: lib.func('void *CreateFileMappingW(void *file, void *attributes, uint32_t protect, uint32_t sizeHigh, uint32_t sizeLow, const char16_t *name)') as Kernel32['createFileMapping'],
      openFileMapping: lib.func('void *OpenFileMappingW(uint32_t access, int inherit, const char16_t *name)') as Kernel32['openFileMapping'],
      mapViewOfFile: lib.func('void *MapViewOfFile(void *mapping, uint32_t access, uint32_t offsetHigh, uint32_t offsetLow, size_t bytes)') as Kernel32['mapViewOfFile'],
      unmapViewOfFile: lib.func('int UnmapViewOfFile(void *address)') as Kernel32['unmapViewOfFile'],
      createEvent: lib.func('void *CreateEventW(void *attributes, int manualReset, int initialState, const char16_t *name)') as Kernel32['createEvent'],
      openEvent: lib.func('void *OpenEventW(uint32_t access, int inherit, const char16_t *name)') as Kernel32['openEvent'],
      setEvent: lib.func('int SetEvent(void *event)') as Kernel32['setEvent'],
      waitForSingleObject: lib.func('uint32_t WaitForSingleObject(void *handle, uint32_t ms)') as Kernel32['waitForSingleObject'],
      createNamedPipe: lib.func('void *CreateNamedPipeW(const char16_t *name, uint32_t openMode, uint32_t pipeMode, uint32_t instances, uint32_t outBytes, uint32_t inBytes, uint32_t timeoutMs, void *attributes)') as Kernel32['createNamedPipe'],
      connectNamedPipe: lib.func('int ConnectNamedPipe(void *pipe, void *overlapped)') as Kernel32['connectNamedPipe'],
      peekNamedPipe: lib.func('int PeekNamedPipe(void *pipe, void *buffer, uint32_t bytes, void *read, _Out_ uint32_t *available, void *left)') as Kernel32['peekNamedPipe'],
      readFile: lib.func('int ReadFile(void *file, _Out_ uint8_t *buffer, uint32_t bytes, _Out_ uint32_t *read, void *overlapped)') as Kernel32['readFile'],
      writeFile: lib.func('int WriteFile(void *file, const uint8_t *buffer, uint32_t bytes, _Out_ uint32_t *written, void *overlapped)') as Kernel32['writeFile'],
      getExitCodeProcess: lib.func('int GetExitCodeProcess(void *process, _Out_ uint32_t *code)') as Kernel32['getExitCodeProcess'],
      createFile: lib.func('void *CreateFileW(const char16_t *name, uint32_t access, uint32_t share, void *attributes, uint32_t disposition, uint32_t flags, void *template)') as Kernel32['createFile'],
      getCurrentProcess: lib.func('void *GetCurrentProcess(void)') as Kernel32['getCurrentProcess'],
      duplicateHandle: lib.func('int DuplicateHandle(void *fromProcess, void *handle, void *toProcess, _Out_ void **copy, uint32_t access, int inherit, uint32_t options)') as Kernel32['duplicateHandle'],
      getStdHandle: lib.func('void *GetStdHandle(uint32_t which)') as Kernel32['getStdHandle'],
      setStdHandle: lib.func('int SetStdHandle(uint32_t which, void *handle)') as Kernel32['setStdHandle'],
      setHandleInformation: lib.func('int SetHandleInformation(intptr_t handle, uint32_t mask, uint32_t flags)') as Kernel32['setHandleInformation'],
    };
  })();
  return declared;
}
