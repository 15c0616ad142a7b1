import { dirname } from 'node:path';
import { Artifact } from '../library/artifact.js';
import { CopyStore } from '../library/copy-store.js';
import { explainMissing, planPreloads } from '../library/dependencies.js';
import { readDynamic } from '../library/elf-dynamic.js';
import { findStateSection } from '../library/state-section.js';
import type { IsoswapError } from '../errors.js';
import { functionsForNewBuild } from '../header/signature-check.js';
import type { FunctionTable, ResolvedOptions } from '../options.js';
import type { LoadRequest, StateRef } from '../wire/protocol.js';
import { hostChildExtras } from '../runtime/process/process-runtime.js';
import { RuntimeFactory } from '../runtime/start.js';
import type { VersionRuntime } from '../runtime/types.js';
import { Version } from './version.js';

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
export class VersionFactory {
  #nextId = 0;
  /** Made at the first load that has a build to load: a path that is no library (a FIFO,
   *  a typo) is refused without a thread or a Node process being started and ended. */
  #runtimes: RuntimeFactory | null = null;

  private constructor(
    private readonly opts: ResolvedOptions,
    private readonly copies: CopyStore,
    private readonly state: StateRef | undefined,
    private readonly onCrash: (version: Version, error: IsoswapError) => void,
  ) {}

  /**
   * @example
   * const factory = VersionFactory.create(opts, block?.ref, (v, err) => recover(v, err));
   */
  static create(opts: ResolvedOptions, state: StateRef | undefined, onCrash: (version: Version, error: IsoswapError) => void): VersionFactory {
    return new VersionFactory(opts, CopyStore.open(opts.library, opts.tempDir), state, onCrash);
  }

  /**
   * Loads a build; the version is ready but not serving. Rejects with the typed load error
   * (and leaves no copy behind) when it cannot be served. A new build with `header` is
   * declared from the header as it is now, and refused with ERR_SIGNATURE_CHANGED when it
   * changes a function of `serving`.
   *
   * @example
   * const next = await factory.load('file', undefined, current.functions);
   */
  async load(source: BuildSource, sourceId?: number, serving?: FunctionTable): Promise<Version> {
    const { library, header, isolation, threads, libraryPath } = this.opts;
    const functions = source !== 'file' && source.functions !== undefined ? source.functions
      : header !== undefined ? await functionsForNewBuild(header, serving)
      : this.opts.functions;
    const id = ++this.#nextId;
    // Once the bytes are known to be a library, the runtime boots while they are hashed and
    // copied (a cold start back to back, 1-3 ms sooner); a file refused costs no start.
    const runtimes = (): RuntimeFactory => (this.#runtimes ??= new RuntimeFactory(isolation, threads, hostChildExtras(this.state, libraryPath)));
    const checked = (): void => runtimes().prestart();
    const artifact = source === 'file'
      ? await Artifact.fromFile(library, this.copies, id, checked)
      : await Artifact.fromBytes(source.bytes, library, this.copies, id, source.sha256, checked);
    try {
      return this.#version(id, artifact, await runtimes().start(this.#request(artifact, functions)), functions, sourceId);
    } catch (err) {
      const explained = this.#explained(err, artifact); // before the copy it reads is removed
      await artifact.remove();
      throw explained;
    }
  }

  /** Whether {@link loadSync} can load without the event loop (process isolation). */
  get canLoadSync(): boolean {
    return this.#runtimes?.canStartSync === true;
  }

  /**
   * The same for a build served before (a restart, a rollback), blocking: the copy is
   * written and the runtime loads over the blocking paths, within `timeoutMs` (0: none;
   * past it, ERR_CALL_TIMEOUT). For a restart a blocked callSync drives; only where
   * {@link canLoadSync}.
   *
   * @example
   * const next = factory.loadSync({ bytes, functions }, crashed.id, 15_000);
   */
  loadSync(source: { bytes: Buffer; functions: FunctionTable }, sourceId: number, timeoutMs: number): Version {
    const id = ++this.#nextId;
    const artifact = Artifact.fromBytesSync(source.bytes, this.opts.library, this.copies, id);
    try {
      return this.#version(id, artifact, this.#runtimes!.startSync(this.#request(artifact, source.functions), timeoutMs), source.functions, sourceId);
    } catch (err) {
      const explained = this.#explained(err, artifact);
      artifact.removeSync();
      throw explained;
    }
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
    return { library, copy: artifact.copy, functions, preload, libraryPath, state: this.state, timeoutMs: loadTimeoutMs, section, threadName, addon: this.opts.addon };
  }

  /** A loaded version, its crashes and timeouts reported to the host. */
  #version(id: number, artifact: Artifact, runtime: VersionRuntime, functions: FunctionTable, sourceId: number | undefined): Version {
    const { callTimeoutMs, hookTimeoutMs } = this.opts;
    const version = new Version(id, artifact, runtime, functions, sourceId);
    runtime.onCrash((error) => this.onCrash(version, error));
    if (callTimeoutMs > 0) version.setCallTimeout(callTimeoutMs, (error) => this.onCrash(version, error));
    version.setHookTimeout(hookTimeoutMs, (error) => this.onCrash(version, error));
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
    this.copies.close();
  }
}
