/** Where a version is in its life. */
export type VersionStatus = 'loading' | 'serving' | 'draining' | 'retired' | 'failed' | 'crashed' | 'rolled-back';

/** A snapshot of one version, as users see it. */
export interface VersionInfo {
  /** 1 for the first version, +1 for every load. */
  readonly id: number;
  /** The path the user named. */
  readonly library: string;
  /** The private copy this version loaded. */
  readonly copy: string;
  readonly sha256: string;
  readonly loadedAt: Date;
  readonly status: VersionStatus;
  /** For a rollback or restart: the version whose build this one serves again. */
  readonly sourceId?: number | undefined;
  /** Live handles to objects this version made (an addon's; 0 for a library): a retiring
   *  version is torn down once they are released (docs/addons.md, "Handles"). */
  readonly handles: number;
}
