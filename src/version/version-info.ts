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
  /** The build is marked NODELETE or defines STB_GNU_UNIQUE symbols: thread isolation can
   *  never unmap it (see `onPinned`). False on Windows, where it is not looked for. */
  readonly pinned: boolean;
  /** Where this version runs: the host's isolation, or 'process' for a pinned build served
   *  with onPinned: 'process'. */
  readonly isolation: 'thread' | 'process';
  /** Live handles to objects this version made (an addon's; 0 for a library): a retiring
   *  version is torn down once they are released (docs/addons.md, "Handles"). */
  readonly handles: number;
}
