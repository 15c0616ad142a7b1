import type { IsoswapError } from '../errors.js';
import { inheritedFd } from '../wire/inherited-fds.js';
import { closeDoorbellFd, doorbellPipe, type DoorbellPipe } from './doorbell.js';
import { futexAvailable } from './futex.js';
import { ProcessHostSignals, ProcessWorkerSignals } from './process-ring-signals.js';
import { RING_BYTES } from './ring-layout.js';
import { createRingMemory, mapRing, type RingMapping } from './ring-mapping.js';
import { NamedRing, openNamedRing } from './named-ring.js';
import type { NamedWorkerSignals } from './named-ring-signals.js';
import { platform } from '../platform/platform.js';

/** The names the child finds its ends under (inherited-fds.ts). */
const FD_NAMES = { memory: 'ring', hostBell: 'ring-host-bell', workerBell: 'ring-worker-bell', spill: 'ring-spill' } as const;

/**
 * The host's side of one child's call ring: a memfd both map, two doorbell pipes
 * (child → host, host → child) and a blocking pipe for long string results. Made before the fork; the child inherits its ends as
 * named fds (see {@link childFds}).
 */
export class ProcessRing {
  /** Nothing is passed by name: the child inherits every end (childFds). */
  readonly childEnv: Readonly<Record<string, string>> = {};
  #signals: ProcessHostSignals | null = null;
  #released = false;

  private constructor(
    readonly mapping: RingMapping,
    readonly childFds: Readonly<Record<string, number>>,
    private readonly hostBell: DoorbellPipe,
    private readonly workerBell: DoorbellPipe,
    private readonly spill: DoorbellPipe,
  ) {}

  /** Null without futex (not Linux x86-64/arm64) or when the kernel refuses a memfd, a
   *  mapping or a pipe: the child then serves
   *  every call over IPC and the sync pipes, as before there was a ring. */
  static create(): ProcessRing | null {
    if (!futexAvailable()) return null;
    const memory = createRingMemory(RING_BYTES);
    if (memory < 0) return null;
    const mapping = mapRing(memory, RING_BYTES);
    const hostBell = mapping === null ? null : doorbellPipe();
    const workerBell = hostBell === null ? null : doorbellPipe();
    const spill = workerBell === null ? null : doorbellPipe(true);
    if (mapping === null || hostBell === null || workerBell === null || spill === null) {
      for (const pipe of [hostBell, workerBell]) if (pipe !== null) for (const fd of [pipe.readFd, pipe.writeFd]) closeDoorbellFd(fd);
      closeDoorbellFd(memory);
      mapping?.unmap();
      return null;
    }
    const childFds = {
      [FD_NAMES.memory]: memory, [FD_NAMES.hostBell]: hostBell.writeFd, [FD_NAMES.workerBell]: workerBell.readFd, [FD_NAMES.spill]: spill.writeFd,
    };
    return new ProcessRing(mapping, childFds, hostBell, workerBell, spill);
  }

  /** After the fork: the host must not hold the child's ends (the memfd lives on in both
   *  mappings). */
  closeChildEnds(): void {
    for (const fd of Object.values(this.childFds)) closeDoorbellFd(fd);
  }

  /** The host end's signals; `death` is the error of a child found dead during callSync. */
  signals(death: () => IsoswapError): ProcessHostSignals {
    this.#signals ??= new ProcessHostSignals(this.mapping.address, this.hostBell.readFd, this.workerBell.writeFd, this.spill.readFd, death);
    return this.#signals;
  }

  /** Once the channel has let go of the memory (CallChannel.fail): unmaps it and closes
   *  the host's pipe ends. */
  release(): void {
    if (this.#released) return; // a closed fd number may be reused: never close it twice
    this.#released = true;
    if (this.#signals !== null) this.#signals.close();
    else closeDoorbellFd(this.hostBell.readFd);
    closeDoorbellFd(this.workerBell.writeFd);
    closeDoorbellFd(this.spill.readFd);
    this.mapping.unmap();
  }
}

/**
 * The host's side of a new child's ring, as this system shares one: a memfd, futexes and
 * pipes the child inherits (Linux), or objects it opens by name (Windows, named-ring.ts).
 * Chosen here once per child; either ring's calls run the same code (call-channel.ts).
 */
export function createProcessRing(): ProcessRing | NamedRing | null {
  return platform().namedChannels ? NamedRing.create() : ProcessRing.create();
}

/**
 * In the child: the ring its host passed, mapped, with the child end's signals; null when
 * the host passed none (or mapping failed: the host then gets no `fast` functions).
 */
export function openInheritedRing(): { buffer: ArrayBuffer; signals: ProcessWorkerSignals | NamedWorkerSignals } | null {
  if (platform().namedChannels) return openNamedRing();
  const memory = inheritedFd(FD_NAMES.memory);
  const hostBell = inheritedFd(FD_NAMES.hostBell);
  const workerBell = inheritedFd(FD_NAMES.workerBell);
  const spill = inheritedFd(FD_NAMES.spill);
  if (memory === undefined || hostBell === undefined || workerBell === undefined || spill === undefined) return null;
  const mapping = mapRing(memory, RING_BYTES);
  closeDoorbellFd(memory); // the mapping keeps the memory
  if (mapping === null) return null;
  // Never unmapped: the process ends with its version, and a view touched after munmap
  // would be a segfault.
  return { buffer: mapping.buffer, signals: new ProcessWorkerSignals(mapping.address, workerBell, hostBell, spill) };
}
