import type { Readable } from 'node:stream';
import type { Steps } from '../procedure.js';
import type { SectionRef } from '../wire/protocol.js';

/**
 * What differs between the systems isoswap runs on, in one place: how a build is
 * checked, how files are owned and removed, the process's own system calls, threads,
 * and how a child ends. Chosen once per process ({@link platform}); nothing else in the
 * project asks which system it runs on.
 */
export interface Platform {
  readonly name: 'linux' | 'windows';
  /** How a library file ends here, dot included (`.so`, `.dll`). */
  readonly libraryExtension: string;
  /** Whether library files carry a `lib` prefix (rustc's `libname.so`; `name.dll`). */
  readonly libraryPrefix: string;
  /** How a C file becomes a library here (`isoswap init`'s build command), `{out}` and
   *  `{src}` to fill in. */
  readonly buildC: string;
  /** A C library every process has loaded, with `abs` and `strlen` (a worker's warm-up). */
  readonly cLibrary: string;
  /** The variable a child's loader searches for dependencies (`libraryPath`). */
  readonly libraryPathVariable: string;
  /** The separator of that variable's directories. */
  readonly pathSeparator: string;
  /** The loader defers unmapping some copies until a later unload (glibc): see loader-sweep. */
  readonly deferredUnmap: boolean;
  /** Threads can be named, and those a library starts found by name. */
  readonly namedThreads: boolean;
  /** A child inherits memory and pipes by descriptor (memfd, pipe2, futex): process
   *  isolation's call ring, its blocking `callSync` and its state block. */
  readonly inheritedChannels: boolean;
  /** A child opens memory, events and pipes the host made under names it is told (a file
   *  mapping, named events, named pipes): process isolation's channels on Windows. */
  readonly namedChannels: boolean;

  /** ERR_NOT_A_LIBRARY unless `bytes` are a whole library this process could load. */
  assertCompleteLibrary(bytes: Uint8Array, file: string): void;
  /** Where section `name` sits once loaded (relative to the load base); null without it.
   *  ERR_STATE_SECTION when it would not be mapped writable in full (`file` names it). */
  findSection(bytes: Buffer, name: string, file: string): SectionRef | null;

  /** Creates `path` (it must not exist) and holds it as this process's lock until the
   *  process ends, however it ends; returns the fd. Throws the fs error. */
  createOwnerLock(path: string): number;
  /** Opens the existing lock file `path` and takes it when its owner is gone (returns the
   *  fd, to close before removing); null while the owner lives. Throws the fs error (ENOENT). */
  takeAbandonedLock(path: string): number | null;
  /** Removes a file that a loader may still hold for a moment after unloading it: a step
   *  either driver runs (src/procedure.ts). */
  removeCopy(path: string): Steps<void>;

  /** Prepares this thread to load `copy` so that its dependencies are found beside the
   *  original; returns what undoes it once the copy is unloaded. */
  beforeLoad(copy: string): () => void;
  /** The address `copy` (loaded in this thread's process) was mapped at. */
  loadBase(copy: string): bigint;
  /** memcpy between a raw address and a typed array. */
  copyFrom(to: Uint8Array, address: bigint, bytes: number): void;
  copyTo(address: bigint, from: Uint8Array, bytes: number): void;

  /** The calling thread's system id (0 where the host cannot look threads up by it). */
  threadId(): number;
  /** Names the calling thread (threads it starts inherit the name where `namedThreads`). */
  nameThisThread(name: string): void;
  /** The ids of this process's threads named `name`, leaving out `workers`; with
   *  `started` (whether a thread id was started while the version was the latest to load),
   *  also those that renamed themselves (a name neither Node nor isoswap gives). */
  guestThreads(name: string, workers: readonly number[], started?: (tid: number) => boolean): number[];
  /** The ids of this process's threads (none where threads are not named). */
  threadIds(): number[];
  /** Keeps `path` (already loaded) loaded until the process exits. */
  keepMapped(path: string): void;
  /** The signals whose process-wide handler is code of `copy` (loaded): unmapping it would
   *  crash the program at the next such signal. None where it cannot be known. */
  signalHandlersIn(copy: string): number[];
  /** Declares now the system calls this thread makes later (`host`: the host's thread,
   *  which makes them all): none may load a library once a guest may hold the loader lock. */
  prepareThread(host: boolean): void;
  /** Lets another thread runnable on this CPU run first (a spinner's courtesy). */
  yieldCpu(): void;
  /** The CPU the calling thread runs on now, -1 where unknown. */
  currentCpu(): number;
  /** Moves the calling thread off CPU `cpu` (which another spinning thread needs), keeping
   *  the CPUs it may use; false where it cannot. */
  leaveCpu(cpu: number): boolean;
  /** Whether thread `tid` of this process still runs (true when it cannot be known). */
  threadAlive(tid: number): boolean;

  /** How child `pid` ended, read before Node reaps it; null when not known. */
  exitStatus(pid: number): { exitCode: number | null; signal: NodeJS.Signals | null } | null;
  /** The system's name for a child's exit code (`STATUS_ACCESS_VIOLATION`); undefined for none. */
  crashName(exitCode: number | null): string | undefined;
  /** `text` as one word of this system's shell (`sh -c`, `cmd /c`). */
  shellWord(text: string): string;
  /** A tree of processes ended as one (a build command with its compilers), made before
   *  its root is spawned: the root joins it right after. */
  processTree(): ProcessTree;
  /** The library's printed output moved off this process's own (`isoswap run`): null where
   *  `inheritedChannels` lets the command move fds 1 and 2 itself (src/cli/output-capture.ts). */
  redirectOutput(): Promise<OutputRedirect> | null;
  /** In a process-isolation child: joins the redirect of the command that started it,
   *  where it has one (nothing to do where children inherit fds 1 and 2). */
  followRedirectedOutput(): void;
}

/** What a library of this process prints, on pipes the command reads. */
export interface OutputRedirect {
  /** Calls `onReader` with each pipe (0 stdout, 1 stderr) read now, and with each a
   *  child process adds later (its own, as each child writes through its own handles). */
  listen(onReader: (index: 0 | 1, reader: Readable) => void): void;
  /** Starts writing out what the C runtimes buffer (never waits on this thread). */
  flush(): void;
  /** Resolves once what was buffered when called is written out (the library is closed). */
  drain(): Promise<void>;
  /** Gives the original outputs back; the readers end once every write end is closed. */
  restore(): void;
}

/** A process and all it started, ended together (`isoswap run --build`). */
export interface ProcessTree {
  /** Makes `pid` (just spawned `detached`) the root: every process it starts belongs too. */
  adopt(pid: number): void;
  /** Ends every process of the tree (Windows ends them outright, whatever `signal`). */
  end(signal: NodeJS.Signals): void;
  /** Lets go of what holds the tree, once its root has exited. */
  release(): void;
}
