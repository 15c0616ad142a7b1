import koffi, { type LibraryHandle } from 'koffi';

let handle: LibraryHandle | null = null;

/**
 * The C library of Linux (glibc), through koffi, for what Node does not offer (mmap, memfd,
 * futex, blocking pipes, poll, gettid, prctl). Loaded once per thread: dlopen of it only
 * counts a reference. Windows has kernel32 instead (src/platform/kernel32.ts).
 */
export function libc(): LibraryHandle {
  handle ??= koffi.load('libc.so.6');
  return handle;
}

type Mmap = (addr: null, length: number, prot: number, flags: number, fd: number, offset: number) => unknown;
type Munmap = (addr: unknown, length: number) => number;
type Pipe2 = (fds: Int32Array, flags: number) => number;
type Poll = (fds: Buffer, nfds: number, timeoutMs: number) => number;
type MemfdCreate = (name: string, flags: number) => number;
type Fallocate = (fd: number, offset: number, length: number) => number;
type Flock = (fd: number, operation: number) => number;
type Futex = (nr: number, address: number, op: number, value: number, timeout: Buffer | null, address2: number, value3: number) => number;
type Dlopen = (file: string | Buffer, mode: number) => unknown;
type Dlinfo = (handle: unknown, request: number, out: BigUint64Array) => number;
type Dlclose = (handle: unknown) => number;
type CopyTo = (address: bigint, from: Uint8Array, bytes: number) => unknown;
type CopyFrom = (to: Uint8Array, address: bigint, bytes: number) => unknown;
/** Variadic: the arguments after `cmd` (`request`) are given as koffi type, value pairs. */
type Fcntl = (fd: number, cmd: number, ...typeThenValue: unknown[]) => number;
type Ioctl = (fd: number, request: number, ...typeThenValue: unknown[]) => number;

/** The libc functions isoswap calls, each declared once per thread on first use. */
export interface LibcFunctions {
  /** Node has no mmap. */
  mmap: Mmap;
  munmap: Munmap;
  /** Node makes no plain blocking pipe: its pipes are non-blocking libuv streams that
   *  readSync cannot wait on (EAGAIN). */
  pipe2: Pipe2;
  poll: Poll;
  /** Anonymous shared memory a child can inherit (Node has no shm_open either): the state
   *  block and the call ring of process isolation, with no file anywhere. */
  memfdCreate: MemfdCreate;
  /** posix_fallocate64: returns the error number itself (not -1 and errno). */
  posixFallocate: Fallocate;
  /** The lock that marks a host's copies as owned. */
  flock: Flock;
  /** syscall(SYS_futex, ...): Atomics.wait refuses memory that is not a SharedArrayBuffer.
   *  Declared with fixed arguments: on x86-64 and arm64 Linux a variadic call passes
   *  integers and pointers in the same registers, and koffi's variadic form is slower. */
  futex: Futex;
  /** dlopen(RTLD_NOLOAD) + dlinfo(RTLD_DI_LINKMAP): a loaded library's load base, which
   *  koffi does not expose. */
  dlopen: Dlopen;
  dlinfo: Dlinfo;
  dlclose: Dlclose;
  /** memcpy to and from a raw address (the isoswap_state section): koffi has no pointer
   *  arithmetic, so the address travels as an integer. */
  copyTo: CopyTo;
  copyFrom: CopyFrom;
  /** `isoswap run` moves fds 1 and 2 onto its own blocking pipes (src/cli/output-capture.ts). */
  dup2: (oldFd: number, newFd: number) => number;
  close: (fd: number) => number;
  fcntl: Fcntl;
  ioctl: Ioctl;
  /** The handler installed for a signal (`act` null: only read into `old`, a struct
   *  sigaction whose first word is the handler), to find handlers inside a library copy. */
  sigaction: (signal: number, act: null, old: Uint8Array) => number;
  /** C stdio, on a `FILE *` (or null: every stream). */
  fflush: (stream: unknown) => number;
  ftrylockfile: (stream: unknown) => number;
  funlockfile: (stream: unknown) => void;
}

/** pipe2 / open flag: the fd is not inherited by an exec unless a stdio array names it. */
export const O_CLOEXEC = 0o2000000;

let declared: LibcFunctions | null = null;

export function libcFunctions(): LibcFunctions {
  declared ??= (() => {
    const lib = libc();
    return {
      mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)') as Mmap,
      munmap: lib.func('int munmap(void *addr, size_t length)') as Munmap,
      pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)') as Pipe2,
      poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)') as Poll,
      memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)') as MemfdCreate,
      posixFallocate: lib.func('int posix_fallocate64(int fd, int64_t offset, int64_t len)') as Fallocate,
      flock: lib.func('int flock(int fd, int operation)') as Flock,
      futex: lib.func('long syscall(long nr, int64_t addr, int op, int val, void *timeout, int64_t addr2, int val3)') as Futex,
      dlopen: lib.func('void *dlopen(const char *file, int mode)') as Dlopen,
      dlinfo: lib.func('int dlinfo(void *handle, int request, void *info)') as Dlinfo,
      dlclose: lib.func('int dlclose(void *handle)') as Dlclose,
      copyTo: lib.func('void *memcpy(uintptr_t to, const void *from, size_t bytes)') as CopyTo,
      copyFrom: lib.func('void *memmove(void *to, uintptr_t from, size_t bytes)') as CopyFrom,
      dup2: lib.func('int dup2(int oldfd, int newfd)') as LibcFunctions['dup2'],
      close: lib.func('int close(int fd)') as LibcFunctions['close'],
      fcntl: lib.func('int fcntl(int fd, int cmd, ...)') as Fcntl,
      ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)') as Ioctl,
      sigaction: lib.func('int sigaction(int signum, const void *act, _Out_ uint8_t *oldact)') as LibcFunctions['sigaction'],
      fflush: lib.func('int fflush(void *stream)') as LibcFunctions['fflush'],
      ftrylockfile: lib.func('int ftrylockfile(void *stream)') as LibcFunctions['ftrylockfile'],
      funlockfile: lib.func('void funlockfile(void *stream)') as LibcFunctions['funlockfile'],
    };
  })();
  return declared;
}

/**
 * The calling thread's kernel id: what /proc/self/task lists.
 */
export function gettid(): number {
  return threadCalls().gettid();
}

/**
 * prctl(PR_SET_NAME): names the calling thread (Linux; 15 bytes are kept).
 */
export function setThreadName(name: string): void {
  threadCalls().prctl(PR_SET_NAME, 'const char *', cString(name.slice(0, 15)));
}

/**
 * `text` as a NUL-terminated Buffer, for a `const char *` argument in a worker. koffi
 * copies a JS string (or an `_Out_` value) into its per-thread heap, whose pages stay
 * resident after the thread ends (koffi never frees a thread's instance): one page per
 * worker, which adds up over many swaps. A Buffer is passed by pointer and touches nothing there.
 */
export function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`);
}

/**
 * sched_yield(): lets another thread runnable on this CPU run first. A thread spinning for
 * another thread's answer on a machine with more runnable threads than cores may hold the
 * very CPU the other waits for.
 */
export function yieldCpu(): void {
  threadCalls().schedYield();
}

/** sched_getcpu(): the CPU this thread runs on now, -1 if unknown. */
export function currentCpu(): number {
  return threadCalls().getCpu();
}

/** Bytes of a cpu_set_t: CPU_SETSIZE (1024) bits. */
const CPU_SET_BYTES = 128;

/**
 * Moves this thread off CPU `cpu` now: sched_setaffinity without it migrates a running
 * thread before it returns; the thread's own set is put back at once, so the scheduler may
 * place it anywhere later. False when `cpu` is the only CPU it may use.
 */
export function leaveCpu(cpu: number): boolean {
  const calls = threadCalls();
  const allowed = Buffer.alloc(CPU_SET_BYTES);
  if (cpu < 0 || cpu >= CPU_SET_BYTES * 8 || calls.getAffinity(0, CPU_SET_BYTES, allowed) !== 0) return false;
  const others = Buffer.from(allowed);
  others[cpu >> 3]! &= ~(1 << (cpu & 7));
  if (others.equals(allowed) || others.every((byte) => byte === 0)) return false;
  if (calls.setAffinity(0, CPU_SET_BYTES, others) !== 0) return false;
  calls.setAffinity(0, CPU_SET_BYTES, allowed);
  return true;
}

/**
 * Declares now what this thread calls later (`all`: every libc function too, for the
 * host's thread). A first koffi.load of libc is a dlopen, which waits for glibc's loader
 * lock, and a guest constructor that never returns holds that lock for good: declared
 * lazily, a host's first spin after such a load froze its event loop (loader-sweep.ts).
 */
export function declareThreadCalls(all: boolean): void {
  threadCalls();
  if (all) libcFunctions();
}

const PR_SET_NAME = 15;
type AffinityCall = (pid: number, bytes: number, mask: Buffer) => number;
let threadFunctions: {
  gettid: () => number; prctl: (...args: unknown[]) => number; schedYield: () => number;
  getCpu: () => number; getAffinity: AffinityCall; setAffinity: AffinityCall;
} | null = null;
/** Declared once per thread: a koffi declaration costs ~0.1 ms (prctl, variadic, more),
 *  paid otherwise on every load of a version. */
function threadCalls(): NonNullable<typeof threadFunctions> {
  threadFunctions ??= {
    gettid: libc().func('int gettid(void)') as () => number,
    prctl: libc().func('int prctl(int option, ...)') as (...args: unknown[]) => number,
    schedYield: libc().func('int sched_yield(void)') as () => number,
    getCpu: libc().func('int sched_getcpu(void)') as () => number,
    getAffinity: libc().func('int sched_getaffinity(int pid, size_t size, void *mask)') as AffinityCall,
    setAffinity: libc().func('int sched_setaffinity(int pid, size_t size, const void *mask)') as AffinityCall,
  };
  return threadFunctions;
}
