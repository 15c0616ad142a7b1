import type { Version } from '../version/version.js';
import type { VersionInfo } from '../version/version-info.js';

/**
 * The versions that served, oldest first. Only the newest `keepBuilds` keep their bytes,
 * so a host that swaps all day holds a bounded amount of memory.
 */
export class History {
  readonly #versions: Version[] = [];

  constructor(private readonly keepBuilds: number) {}

  add(version: Version): void {
    this.#versions.push(version);
    const kept = this.#versions.filter((v) => v.artifact.bytes !== null);
    for (const old of kept.slice(0, Math.max(0, kept.length - this.keepBuilds - 1))) old.artifact.bytes = null;
  }

  get infos(): VersionInfo[] {
    return this.#versions.map((v) => v.info);
  }

  /**
   * The newest earlier version worth serving again instead of `current`. A build (by
   * content hash) that was rolled back from or failed is passed over in every version
   * older than that verdict, or two rollbacks would bounce back to the build the first
   * one left; a build served again later by a reload is judged by that later run.
   */
  rollbackTarget(current: Version): Version | undefined {
    const rejected = new Set<string>([current.artifact.sha256]);
    for (let i = this.#versions.length - 1; i >= 0; i--) {
      const v = this.#versions[i]!;
      if (v === current) continue;
      if (v.status === 'rolled-back' || v.status === 'failed') {
        rejected.add(v.artifact.sha256);
        continue;
      }
      if (v.artifact.bytes === null || rejected.has(v.artifact.sha256)) continue;
      return v;
    }
    return undefined;
  }
}
