import { constants, openSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { step } from '../procedure.js';
import { kernel32 } from './kernel32.js';
import { processState } from './named-objects.js';
import { assertCompletePe, findPeSection } from './pe-image.js';
import type { Platform } from './platform-api.js';
import { followWindowsOutput, redirectWindowsOutput } from './windows-output.js';

/** libuv's open flag for a share mode of 0: no other open of the file succeeds (EBUSY)
 *  while this handle lives, and Windows closes it when the process ends, however it ends. */
const UV_FS_O_EXLOCK = 0x10000000;
const LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR = 0x100;
const PROCESS_TERMINATE = 0x0001;
const PROCESS_SET_QUOTA = 0x0100;
const LOAD_LIBRARY_SEARCH_DEFAULT_DIRS = 0x1000;
/** Windows (and an antivirus scanner) may hold a DLL a moment after FreeLibrary:
 *  removal is retried on EBUSY/EPERM, with a linear back-off (~1.4 s in all). */
const REMOVE_RETRIES = { force: true, maxRetries: 7, retryDelay: 50 } as const;

/** Exit codes of a Windows process that mean a crash (NTSTATUS), and abort()'s 3. */
const CRASH_NAMES: Record<number, string> = {
  0xc0000005: 'STATUS_ACCESS_VIOLATION',
  0xc00000fd: 'STATUS_STACK_OVERFLOW',
  0xc0000409: 'STATUS_STACK_BUFFER_OVERRUN',
  0xc000001d: 'STATUS_ILLEGAL_INSTRUCTION',
  0xc0000094: 'STATUS_INTEGER_DIVIDE_BY_ZERO',
  0xc0000374: 'STATUS_HEAP_CORRUPTION',
  0x80000003: 'STATUS_BREAKPOINT',
  3: 'abort()',
};

/** Windows x64 (and Wine): PE, exclusive opens, kernel32. */
export const windows: Platform = {
  name: 'windows',
  libraryExtension: '.dll',
  libraryPrefix: '',
  buildC: 'gcc -shared -O2 -o {out} {src}', // mingw-w64's gcc
  cLibrary: 'msvcrt.dll',
  libraryPathVariable: 'PATH',
  pathSeparator: ';',
  deferredUnmap: false,
  namedThreads: false,
  inheritedChannels: false,
  namedChannels: true,

  assertCompleteLibrary: assertCompletePe,
  findSection: findPeSection,

  createOwnerLock: (path) => openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | UV_FS_O_EXLOCK, 0o600),
  takeAbandonedLock(path) {
    try {
      return openSync(path, constants.O_RDWR | UV_FS_O_EXLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EBUSY') return null; // its owner holds it
      throw err;
    }
  },
  removeCopy: step((path: string) => rmSync(path, REMOVE_RETRIES), (path: string) => rm(path, REMOVE_RETRIES)),

  beforeLoad(copy) {
    // LoadLibrary looks for a DLL's imports beside node.exe, in the system folders and on
    // PATH, not beside the DLL. Loaded first with the DLL's own folder searched (where the
    // copy sits beside the original), the load that follows finds the module by path.
    if (!isAbsolute(copy)) return () => {}; // a system DLL by name (a worker's warm-up)
    const { loadLibraryEx, freeLibrary } = kernel32();
    const module = loadLibraryEx(resolve(copy), null, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
    return () => { if (module !== null) freeLibrary(module); };
  },
  loadBase(copy) {
    const base = BigInt(kernel32().moduleBase(resolve(copy)));
    if (base === 0n) throw new Error(`${copy} is not loaded`);
    return base;
  },
  copyFrom: (to, address, bytes) => kernel32().copyFrom(to, address, bytes),
  copyTo: (address, from, bytes) => kernel32().copyTo(address, from, bytes),

  // A DLL's threads do not inherit a thread description, and the host has no /proc to
  // look threads up in: none of this can be known here.
  threadId: () => 0,
  nameThisThread: () => {},
  guestThreads: () => [],
  threadIds: () => [],
  keepMapped(path) {
    kernel32().loadLibraryEx(resolve(path), null, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
  },
  threadAlive: () => true,

  exitStatus(pid) {
    // Read while Node still holds the child's handle (it reaps on its event loop): the code stays
    const { runs, exitCode } = processState(pid);
    return runs || exitCode === null ? null : { exitCode, signal: null };
  },
  crashName: (exitCode) => exitCode === null ? undefined : CRASH_NAMES[exitCode >>> 0],
  // A job object: the processes the root starts belong to it too (Windows has no process
  // groups, and taskkill /T is refused under Wine). Made before the spawn, so that the
  // root (a shell that has barely started) joins at once: a process it started before
  // joining would escape.
  prepareThread: () => {},
  yieldCpu: () => {},
  currentCpu: () => -1,
  leaveCpu: () => false,
  signalHandlersIn: () => [],
  shellWord: (text) => `"${text}"`,
  processTree() {
    const k = kernel32();
    const job = k.createJobObject(null, null);
    let open = job !== null;
    return {
      adopt(pid) {
        const root = k.openProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, 0, pid);
        if (root === null) return;
        if (open) k.assignProcessToJobObject(job, root);
        k.closeHandle(root);
      },
      end() { if (open) k.terminateJobObject(job, 1); },
      release() { if (open) k.closeHandle(job); open = false; },
    };
  },
  redirectOutput: redirectWindowsOutput,
  followRedirectedOutput: followWindowsOutput,
};
