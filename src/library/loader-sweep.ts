import koffi from 'koffi';
import { platform } from '../platform/platform.js';
import { IsoswapError } from '../errors.js';

// glibc defers unmapping a library whose thread-local destructors were pending (a Rust
// cdylib that used println! or thread_local!) until a *later* dlclose really unloads
// something. After a version's threads have exited, dlopen + dlclose of a library nothing
// else holds makes that happen. libutil.so.1 is an empty stub in glibc >= 2.34; an
// already-loaded library such as libdl.so.2 would not do.
const SWEEP_LIBRARY = 'libutil.so.1';
let sweepable: boolean | undefined;
let sweepWanted = false;

// A library's constructors and destructors run under glibc's loader lock, which every
// dlopen, dlsym and dlclose of the process takes. While a worker thread runs guest
// loader code (a load or an unload), the main thread must not take that lock: a
// constructor that never returns holds it for good, and the event loop would freeze.
/** Loads and unloads in worker threads that have not returned. */
let running = 0;
/** Of those, the ones past their deadline (abandoned): the lock may be held for good. */
let stuck = 0;
const freed: Array<() => void> = [];

/**
 * Counts `work`, a dlopen or dlclose of a guest library in a worker thread, while it runs:
 * no sweep runs on the main thread meanwhile.
 */
export function loaderWork<T>(work: Promise<T>): Promise<T> {
  running++;
  void work.then(settled, settled);
  return work;
}

function settled(): void {
  running--;
  if (running === 0 && sweepWanted) setImmediate(sweepLoader);
  wakeIdle();
}

const idle: Array<() => void> = [];

function wakeIdle(): void {
  if (running === 0 && stuck === 0) for (const wake of idle.splice(0)) wake();
}

/**
 * Resolves true once no guest loader work runs in any worker thread (the main thread may
 * then dlopen without waiting on a guest), false if `timeoutMs` passes first (0: at once).
 */
export function whenLoaderIdle(timeoutMs: number): Promise<boolean> {
  if (running === 0 && stuck === 0) return Promise.resolve(true);
  if (timeoutMs <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const wake = (): void => { clearTimeout(timer); resolve(true); };
    const timer = setTimeout(() => {
      const waiting = idle.indexOf(wake);
      if (waiting >= 0) idle.splice(waiting, 1);
      resolve(false);
    }, timeoutMs);
    idle.push(wake);
  });
}

/**
 * Marks loader work in a worker thread as stuck past its deadline until `work` settles:
 * until then no thread of this process can load a library, and {@link loaderFree} refuses.
 */
export function loaderStuck(work: Promise<unknown>): void {
  stuck++;
  const returned = (): void => {
    if (--stuck === 0) for (const wake of freed.splice(0)) wake();
    wakeIdle();
  };
  void work.then(returned, returned);
}

/** Whether a guest constructor or destructor past its deadline may hold the loader lock. */
export function loaderHeld(): boolean {
  return stuck > 0;
}

/**
 * Resolves once no guest constructor or destructor is stuck in a worker thread of this
 * process; rejects with ERR_LOADER_BLOCKED after `timeoutMs` (at once when 0: waiting
 * without a limit on another load's constructor is never what a caller wants). A load in
 * a thread made meanwhile would wait on the loader lock for as long as that one runs.
 */
export async function loaderFree(library: string, timeoutMs: number): Promise<void> {
  if (stuck === 0) return;
  const blocked = (): IsoswapError => new IsoswapError('ERR_LOADER_BLOCKED',
    `cannot load ${library} in a worker thread: a library constructor or destructor in another worker thread of this process ` +
    `has not returned and holds the dynamic loader's lock (an earlier ERR_LOAD_TIMEOUT or ERR_HOOK_TIMEOUT); isolation: 'process' is not affected`,
    { file: library, timeoutMs });
  if (timeoutMs <= 0) throw blocked();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(blocked()), timeoutMs); });
  try {
    await Promise.race([whenLoaderFree(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once no guest constructor or destructor is stuck in a worker thread (perhaps
 * never). A worker thread cannot end before: Node's teardown of its koffi instance
 * dlcloses the libraries it loaded, which waits on the loader lock.
 */
export function whenLoaderFree(): Promise<void> {
  if (stuck === 0) return Promise.resolve();
  return new Promise((resolve) => { freed.push(resolve); });
}

/**
 * Lets the dynamic loader unmap the copies of versions whose threads have exited. While
 * loader work runs in a worker thread the sweep waits until it has settled (for ever if it
 * never does: the copies stay mapped, the event loop runs on).
 */
export function sweepLoader(): void {
  sweepable ??= platform().deferredUnmap;
  if (!sweepable) return;
  if (running > 0 || stuck > 0) {
    sweepWanted = true;
    return;
  }
  sweepWanted = false;
  try {
    koffi.load(SWEEP_LIBRARY).unload();
  } catch (err) {
    // No fd left (every one in use): the next sweep tries again. No such stub on this
    // system: copies are collected by the next real unload.
    if (/too many open files/i.test(String(err))) sweepWanted = true;
    else sweepable = false;
  }
}
