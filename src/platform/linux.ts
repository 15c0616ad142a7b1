import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { step } from '../procedure.js';
import { cString, currentCpu, declareThreadCalls, gettid, leaveCpu, libcFunctions, setThreadName, yieldCpu } from '../library/libc.js';
import { assertCompleteElf, findElfSection } from './elf-image.js';
import type { Platform } from './platform-api.js';
import { linuxSignalHandlersIn } from './signal-handlers.js';
import { napSync } from './nap.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const RTLD_NOW = 2;
const RTLD_LAZY = 0x1;
const RTLD_NOLOAD = 0x4;
const RTLD_DI_LINKMAP = 2;
/** How long to wait for a child whose pipe closed to become a zombie: its fds close a
 *  moment before the kernel records how it ended. */
const ZOMBIE_WAIT_MS = 200;

/** The names Node gives its own threads (20: all `node`; 22 on: libuv's pool, V8's
 *  workers, the inspector's signal thread...; 26 prefixes some with `node-`). */
const NODE_THREADS = new Set(['node', 'MainThread', 'DelayedTaskSche', 'V8Worker', 'SignalInspector', 'WorkerThread', 'libuv-worker']);
const nodeThread = (comm: string): boolean => NODE_THREADS.has(comm) || comm.startsWith('node-');

/** flock(fd, LOCK_EX | LOCK_NB) on a file still linked: the kernel drops it when the
 *  process dies, however it dies (pids mean nothing across pid namespaces). */
function tryLock(fd: number): boolean {
  return libcFunctions().flock(fd, LOCK_EX | LOCK_NB) === 0 && fstatSync(fd).nlink > 0;
}

/** Linux (glibc): ELF, flock, dlopen/dlinfo, /proc. */
export const linux: Platform = {
  name: 'linux',
  libraryExtension: '.so',
  libraryPrefix: 'lib',
  buildC: 'cc -shared -fPIC -O2 -o {out} {src}',
  cLibrary: 'libc.so.6',
  libraryPathVariable: 'LD_LIBRARY_PATH',
  pathSeparator: ':',
  deferredUnmap: true,
  namedThreads: true,
  inheritedChannels: true,
  namedChannels: false,

  assertCompleteLibrary: assertCompleteElf,
  findSection: findElfSection,

  createOwnerLock(path) {
    const fd = openSync(path, 'wx', 0o600);
    // A sweeper that opened the file before the lock was taken may have taken it (and
    // then unlinks it): only a lock held on a file still linked counts.
    if (tryLock(fd)) return fd;
    closeSync(fd);
    throw Object.assign(new Error(`cannot lock ${path}`), { code: 'EAGAIN' });
  },
  takeAbandonedLock(path) {
    const fd = openSync(path, 'r');
    if (tryLock(fd)) return fd;
    closeSync(fd);
    return null; // alive, or another sweeper got there first
  },
  removeCopy: step((path: string) => rmSync(path, { force: true }), (path: string) => rm(path, { force: true })),

  beforeLoad: () => () => {},
  loadBase(copy) {
    const { dlopen, dlinfo, dlclose, copyFrom } = libcFunctions();
    const handle = dlopen(cString(copy), RTLD_LAZY | RTLD_NOLOAD);
    if (handle === null) throw new Error(`${copy} is not loaded`);
    try {
      // Out values in typed arrays, not koffi's: see cString
      const word = new BigUint64Array(1);
      if (dlinfo(handle, RTLD_DI_LINKMAP, word) !== 0) throw new Error(`dlinfo refused ${copy}`);
      copyFrom(new Uint8Array(word.buffer), word[0]!, 8); // struct link_map starts with l_addr
      return word[0]!;
    } finally {
      dlclose(handle); // RTLD_NOLOAD still counted a reference
    }
  },
  copyFrom: (to, address, bytes) => { libcFunctions().copyFrom(to, address, bytes); },
  copyTo: (address, from, bytes) => { libcFunctions().copyTo(address, from, bytes); },

  threadId: gettid,
  nameThisThread: (name) => setThreadName(name),
  guestThreads(name, workers, started) {
    const found: number[] = [];
    for (const tid of threadIds()) {
      if (workers.includes(tid)) continue;
      let comm: string;
      try {
        comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trimEnd();
      } catch {
        continue; // the thread ended while being read
      }
      // Started while the version was the latest to load, and named by neither Node nor
      // isoswap: a guest thread that renamed itself (tokio does).
      const renamed = started?.(tid) === true && !nodeThread(comm) && !comm.startsWith('isw-');
      if (comm === name || renamed) found.push(tid);
    }
    return found;
  },
  threadIds,
  keepMapped(path) {
    // A raw dlopen, not koffi.load: koffi closes its handles when the process exits,
    // while such a thread may still run. Null when already gone: nothing to keep.
    libcFunctions().dlopen(path, RTLD_NOW);
  },
  prepareThread: declareThreadCalls,
  yieldCpu,
  currentCpu,
  leaveCpu,
  signalHandlersIn: linuxSignalHandlersIn,
  shellWord: (text) => `'${text.replaceAll("'", "'\\''")}'`,
  threadAlive: (tid) => tid === 0 || existsSync(`/proc/self/task/${tid}`),

  exitStatus(pid) {
    const end = performance.now() + ZOMBIE_WAIT_MS;
    for (;;) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return null;
      }
      // Fields after the command name (which may hold spaces and parentheses): 3 is the
      // state, 52 the exit code in waitpid(2) form (Linux >= 3.5).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') {
        const wait = Number(fields[49]);
        if (!Number.isInteger(wait)) return null;
        const signo = wait & 0x7f;
        if (signo === 0) return { exitCode: (wait >> 8) & 0xff, signal: null };
        const signal = (Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => constants.signals[s] === signo) ?? null;
        return { exitCode: null, signal };
      }
      if (performance.now() > end) return null;
      napSync(1);
    }
  },
  crashName: () => undefined, // a signal names itself
  // detached: the root leads a process group of its own, which every child joins.
  processTree() {
    let group = 0;
    return {
      adopt(pid) { group = pid; },
      end(signal) { if (group !== 0) try { process.kill(-group, signal); } catch { /* gone */ } },
      release() {},
    };
  },
  redirectOutput: () => null, // fds 1 and 2 move, which children inherit: src/cli/output-capture.ts
  followRedirectedOutput: () => {},
};

/** The ids of this process's threads; none when /proc cannot be read (EMFILE: nothing can be
 *  looked at, the version is unloaded as usual). */
function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
}
