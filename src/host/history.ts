import type { Version } from '../version/version.js';
import type { VersionInfo, VersionStatus } from '../version/version-info.js';

/** A version that ended and let go of its bytes: kept as what `history` shows of it
 *  (a small record, not the Version with its closures, maps and artifact). */
type Entry = Version | VersionInfo;
const isVersion = (entry: Entry): entry is Version => 'artifact' in entry;
/** Statuses a version no longer leaves once it ended. */
const FINAL = new Set<VersionStatus>(['retired', 'failed', 'crashed', 'rolled-back']);
const rejects = (status: VersionStatus): boolean => status === 'rolled-back' || status === 'failed';

/**
 * The versions that served, oldest first. Only the newest `keepBuilds` keep their bytes,
 * and an older one that ended is kept as its info, so that a host that swaps all day
 * holds little per swap.
 */
export class History {
  readonly #entries: Entry[] = [];

  constructor(private readonly keepBuilds: number) {}

  add(version: Version): void {
    this.#entries.push(version);
    const kept = this.#entries.filter((v): v is Version => isVersion(v) && v.artifact.bytes !== null);
    for (const old of kept.slice(0, Math.max(0, kept.length - this.keepBuilds - 1))) old.artifact.bytes = null;
    this.#entries.forEach((v, i) => {
      if (isVersion(v) && v.artifact.bytes === null && v.ended && FINAL.has(v.status)) this.#entries[i] = v.info;
    });
  }

  get infos(): VersionInfo[] {
    return this.#entries.map((v) => (isVersion(v) ? v.info : v));
  }

  /**
   * The newest earlier version worth serving again instead of `current`. A build (by
   * content hash) that was rolled back from or failed is passed over in every version
   * older than that verdict, or two rollbacks would bounce back to the build the first
   * one left; a build served again later by a reload is judged by that later run.
   */
  rollbackTarget(current: Version): Version | undefined {
    const rejected = new Set<string>([current.artifact.sha256]);
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const v = this.#entries[i]!;
      if (v === current) continue;
      const sha256 = isVersion(v) ? v.artifact.sha256 : v.sha256;
      if (rejects(v.status)) {
        rejected.add(sha256);
        continue;
      }
      if (!isVersion(v) || v.artifact.bytes === null || rejected.has(sha256)) continue;
      return v;
    }
    return undefined;
  }
}
