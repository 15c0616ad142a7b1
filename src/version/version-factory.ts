import { dirname } from 'node:path';
import { Artifact } from '../library/artifact.js';
import { CopyStore } from '../library/copy-store.js';
import { explainMissing, planPreloads } from '../library/dependencies.js';
import { readDynamic } from '../library/elf-dynamic.js';
import { findStateSection } from '../library/state-section.js';
import { functionsForNewBuild } from '../header/signature-check.js';
import type { FunctionTable, ResolvedOptions } from '../options.js';
import type { LoadRequest, StateRef } from '../wire/protocol.js';
import { hostChildExtras } from '../runtime/process/process-runtime.js';
import { RuntimeFactory } from '../runtime/start.js';
import type { VersionRuntime } from '../runtime/types.js';
import { Version } from './version.js';
import { awaitOnly, type Steps } from '../procedure.js';
import { readLibrary } from '../library/read-library.js';
import { pinnedError, pinnedReason, type PinnedReason } from '../library/pinned.js';
import { markLoad } from '../library/guest-threads.js';

/** Worker threads are named per version, unique in the process (several hosts may run). */
let threadNames = 0;

/** A build to load: what is at `library` now, or bytes already read (and maybe hashed);
 *  a build served before (rollback, restart) brings the functions it was served with. */
export type BuildSource = 'file' | { bytes: Buffer; sha256?: string | undefined; functions?: FunctionTable };

/**
 * Makes the versions of one host: numbers them, writes each build's private copy (beside
 * the library, else in the temp dir: CopyStore) and loads it into a runtime. Owns the
 * copies and the runtime factory (with its warm standby).
 */
const readBuild = awaitOnly('reading a new build', readLibrary);
const readFunctions = awaitOnly('reading the header of a new build', functionsForNewBuild);

export class VersionFactory {
  #nextId = 0;
  /** Made at the first load that has a build to load: a path that is no library (a FIFO,
   *  a typo) is refused without a thread or a Node process being started and ended. */
  #runtimes: RuntimeFactory | null = null;
  /** Thread isolation with onPinned: 'process': the child processes that serve the pinned builds. */
  #pinnedRuntimes: RuntimeFactory | null = null;

  private constructor(
    private readonly opts: ResolvedOptions,
    private readonly copies: CopyStore,
    private readonly state: StateRef | undefined,
  ) {}

  static create(opts: ResolvedOptions, state: StateRef | undefined): VersionFactory {
    return new VersionFactory(opts, CopyStore.open(opts.library, opts.tempDir), state);
  }

  /**
   * Loads a build; the version is ready but not serving. Throws the typed load error (and
   * leaves no copy behind) when it cannot be served. A new build with `header` is declared
   * from the header as it is now, and refused with ERR_SIGNATURE_CHANGED when it changes a
   * function of `serving`.
   *
   * A blocked callSync drives it for a build served before (a restart, a rollback: bytes
   * and functions known), only where {@link canLoadBlocking}: the copy is written and the
   * runtime loads over the blocking paths within `timeoutMs` (0: none; past it
   * ERR_CALL_TIMEOUT).
   */
  *load(source: BuildSource, sourceId?: number, serving?: FunctionTable, timeoutMs = 0): Steps<Version> {
    const { library, header, isolation, threads, libraryPath } = this.opts;
    const functions = source !== 'file' && source.functions !== undefined ? source.functions
      : header !== undefined ? yield* readFunctions(header, serving)
      : this.opts.functions;
    const id = ++this.#nextId; // a build refused still takes its number
    const bytes = source === 'file' ? yield* readBuild(library) : source.bytes;
    // Found before anything is loaded: thread isolation could never unmap such a build.
    const pinned = pinnedReason(bytes);
    if (pinned !== null && isolation === 'thread' && this.opts.onPinned === 'refuse') throw pinnedError(pinned, library, id, 'refused');
    const inChild = pinned !== null && isolation === 'thread' && this.opts.onPinned === 'process';
    // Once the bytes are known to be a library, the runtime boots while they are hashed and
    // copied (a cold start back to back serves sooner); a file refused costs no start.
    const runtimes = (): RuntimeFactory => inChild
      ? (this.#pinnedRuntimes ??= new RuntimeFactory('process', 1, hostChildExtras(this.state, libraryPath)))
      : (this.#runtimes ??= new RuntimeFactory(isolation, threads, hostChildExtras(this.state, libraryPath)));
    const artifact = yield* Artifact.fromBytes(bytes, library, this.copies, id, source === 'file' ? undefined : source.sha256, () => runtimes().prestart());
    try {
      const mark = isolation === 'thread' && !inChild ? markLoad() : undefined;
      const runtime = yield* runtimes().start(this.#request(artifact, functions), timeoutMs);
      runtime.report.loadMark = mark;
      return this.#version(id, artifact, runtime, functions, sourceId, pinned);
    } catch (err) {
      const explained = this.#explained(err, artifact); // before the copy it reads is removed
      yield* artifact.remove();
      throw explained;
    }
  }

  /** Whether a blocked callSync can {@link load} (process isolation, once a runtime ran). */
  get canLoadBlocking(): boolean {
    return this.#runtimes?.canStartBlocking === true && this.#pinnedRuntimes === null;
  }

  /** A missing dependency, explained: which library needs it, where it was looked for. */
  #explained(err: unknown, artifact: Artifact): unknown {
    const { library, libraryPath, isolation } = this.opts;
    return explainMissing(err, { library, copy: artifact.copy, libraryPath, isolation });
  }

  #request(artifact: Artifact, functions: FunctionTable): LoadRequest {
    const { library, loadTimeoutMs, libraryPath } = this.opts;
    const preload = planPreloads(artifact.bytes!, [...libraryPath, ...this.#originDirs(artifact)]);
    const section = findStateSection(artifact.bytes!, library) ?? undefined;
    // The worker thread's name: threads the library starts inherit it (guest-threads.ts).
    const threadName = `isw-v${++threadNames}`;
    const { addon, dlopenFlags, module } = this.opts;
    return { library, copy: artifact.copy, functions, preload, libraryPath, state: this.state, timeoutMs: loadTimeoutMs, section, threadName, addon, dlopenFlags, module };
  }

  /** A loaded version with the host's deadlines (the swap queue listens to its faults). */
  #version(id: number, artifact: Artifact, runtime: VersionRuntime, functions: FunctionTable, sourceId: number | undefined, pinned: PinnedReason | null): Version {
    const version = new Version(id, artifact, runtime, functions, sourceId);
    version.pinned = pinned;
    version.setDeadlines(this.opts.callTimeoutMs, this.opts.hookTimeoutMs, this.opts.handles?.timeoutMs);
    return version;
  }

  /**
   * A copy in the temp dir (the library's directory took no file) has $ORIGIN there: the
   * directories its RPATH/RUNPATH name through $ORIGIN, taken from the original's
   * directory, are searched for libraries to preload (those with a SONAME then resolve).
   */
  #originDirs(artifact: Artifact): string[] {
    if (dirname(artifact.copy) === dirname(artifact.library)) return [];
    const { rpath, runpath } = readDynamic(artifact.bytes!);
    return [...rpath, ...runpath].filter((d) => d.includes('ORIGIN')).map((d) => d.replace(/\$(\{ORIGIN\}|ORIGIN)/g, dirname(artifact.library)));
  }

  /** Ends the standby and removes this host's copies and lock files. */
  async close(): Promise<void> {
    await this.#runtimes?.close();
    await this.#pinnedRuntimes?.close();
    this.copies.close();
  }
}
