import { rm } from 'node:fs/promises';
import { Artifact, makeArtifactDir } from '../library/artifact.js';
import { findStateSection } from '../library/state-section.js';
import type { IsoswapError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { StateRef } from '../runtime/protocol.js';
import { RuntimeFactory } from '../runtime/start.js';
import { Version } from './version.js';

/** A build to load: what is at `library` now, or bytes already read (and maybe hashed). */
export type BuildSource = 'file' | { bytes: Buffer; sha256?: string | undefined };

/**
 * Makes the versions of one host: numbers them, writes each build's private copy into the
 * host's 0700 directory and loads it into a runtime. Owns that directory and the runtime
 * factory (with its warm standby).
 */
export class VersionFactory {
  #nextId = 0;

  private constructor(
    private readonly opts: ResolvedOptions,
    private readonly dir: string,
    private readonly state: StateRef | undefined,
    private readonly runtimes: RuntimeFactory,
    private readonly onCrash: (version: Version, error: IsoswapError) => void,
  ) {}

  /**
   * @example
   * const factory = await VersionFactory.create(opts, block?.ref, (v, err) => recover(v, err));
   */
  static async create(opts: ResolvedOptions, state: StateRef | undefined, onCrash: (version: Version, error: IsoswapError) => void): Promise<VersionFactory> {
    const dir = await makeArtifactDir(opts.tempDir);
    return new VersionFactory(opts, dir, state, new RuntimeFactory(opts.isolation, opts.threads), onCrash);
  }

  /**
   * Loads a build; the version is ready but not serving. Rejects with the typed load error
   * (and leaves no copy behind) when it cannot be served.
   *
   * @example
   * const next = await factory.load('file');
   */
  async load(source: BuildSource, sourceId?: number): Promise<Version> {
    const id = ++this.#nextId;
    const { library, functions, callTimeoutMs, loadTimeoutMs } = this.opts;
    const artifact = source === 'file'
      ? await Artifact.fromFile(library, this.dir, id)
      : await Artifact.fromBytes(source.bytes, library, this.dir, id, source.sha256);
    try {
      const section = artifact.bytes === null ? undefined : findStateSection(artifact.bytes) ?? undefined;
      const runtime = await this.runtimes.start({ library, copy: artifact.copy, functions, state: this.state, timeoutMs: loadTimeoutMs, section, addon: this.opts.addon });
      const version = new Version(id, artifact, runtime, sourceId);
      runtime.onCrash((error) => this.onCrash(version, error));
      if (callTimeoutMs > 0) version.setCallTimeout(callTimeoutMs, (error) => this.onCrash(version, error));
      return version;
    } catch (err) {
      await artifact.remove();
      throw err;
    }
  }

  /** Ends the standby and removes the copies directory. */
  async close(): Promise<void> {
    await this.runtimes.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
