import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { IsoswapError } from '../errors.js';
import { hostPipe, namedEvent, namedMemory, pipePath, uniqueName, type HostPipe, type NamedEvent, type NamedMemory } from '../platform/named-objects.js';
import { listenBell, NamedHostSignals, NamedWorkerSignals } from './named-ring-signals.js';
import { RING_BYTES } from './ring-layout.js';

/** The variable that tells a child the base name of its ring's objects. */
const RING_VARIABLE = 'ISOSWAP_RING';

/** The names of one ring's objects, from its base name. */
function names(base: string): { memory: string; done: string; wake: string; hostBell: string; workerBell: string; spill: string } {
  return { memory: base, done: `${base}-done`, wake: `${base}-wake`, hostBell: `${base}-host-bell`, workerBell: `${base}-worker-bell`, spill: `${base}-spill` };
}

const ONE_BYTE = new Uint8Array([1]);

/**
 * Process isolation's call ring on Windows, the host's side: a named file mapping both
 * processes map, two named events for a blocked side's wake-ups (`done`: the host waits;
 * `wake`: the child waits), a doorbell pipe each way (written without waiting, read by the
 * other's event loop), and a named pipe for long string results. Made before the fork; the child is told the base name
 * (`ISOSWAP_RING`) and opens each object by it. The same shape as ProcessRing (Linux).
 */
export class NamedRing {
  readonly childFds: Readonly<Record<string, number>> = {};
  #signals: NamedHostSignals | null = null;
  #bellSocket: Socket | null = null;
  #released = false;

  private constructor(
    readonly mapping: NamedMemory,
    readonly childEnv: Readonly<Record<string, string>>,
    private readonly events: { done: NamedEvent; wake: NamedEvent },
    private readonly bellServer: Server,
    private readonly workerBell: HostPipe,
    private readonly spill: HostPipe,
  ) {}

  /** Null when Windows refuses one of the objects: the child then serves every call over
   *  IPC, as without a ring. */
  static create(): NamedRing | null {
    const base = uniqueName('ring');
    const name = names(base);
    let mapping: NamedMemory;
    try {
      mapping = namedMemory(name.memory, RING_BYTES, 'create');
    } catch {
      return null;
    }
    const done = namedEvent(name.done, 'create');
    const wake = namedEvent(name.wake, 'create');
    const spill = hostPipe(name.spill, 'in');
    const workerBell = hostPipe(name.workerBell, 'out', 64);
    if (done === null || wake === null || spill === null || workerBell === null) {
      for (const held of [done, wake, spill, workerBell, mapping]) held?.close();
      return null;
    }
    // listen() on a pipe path makes the pipe now: the child may open it as soon as it runs
    const bellServer = createServer().listen(pipePath(name.hostBell));
    bellServer.unref();
    bellServer.on('error', () => {});
    return new NamedRing(mapping, { [RING_VARIABLE]: base }, { done, wake }, bellServer, workerBell, spill);
  }

  /** Nothing is inherited by descriptor: the child opens every object by name. */
  closeChildEnds(): void {}

  /** The host end's signals; `death` is the error of a child found dead during callSync. */
  signals(death: () => IsoswapError): NamedHostSignals {
    if (this.#signals === null) {
      // A full pipe holds a ring already; before the child connects it cannot be parked
      const bell = { ring: () => { this.workerBell.writeSome(ONE_BYTE, 0); } };
      const signals = new NamedHostSignals(this.events, bell, this.spill, death);
      this.bellServer.once('connection', (socket) => {
        this.#bellSocket = listenBell(socket, signals.rang);
        this.bellServer.close(); // one child: no other may connect
      });
      this.#signals = signals;
    }
    return this.#signals;
  }

  /** Once the channel has let go of the memory (CallChannel.fail): unmaps it and closes
   *  every handle. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#signals?.close();
    this.#bellSocket?.destroy();
    this.bellServer.close();
    for (const held of [this.events.done, this.events.wake, this.spill, this.workerBell, this.mapping]) held.close();
  }
}

/**
 * In the child: the ring its host named (`ISOSWAP_RING`), mapped, with the child end's
 * signals; null when the host named none or an object cannot be opened.
 */
export function openNamedRing(): { buffer: ArrayBuffer; signals: NamedWorkerSignals } | null {
  const base = process.env[RING_VARIABLE];
  if (base === undefined) return null;
  delete process.env[RING_VARIABLE]; // not for the library's own children
  const name = names(base);
  let mapping: NamedMemory;
  let spillFd = -1;
  let hostBellFd = -1;
  try {
    mapping = namedMemory(name.memory, RING_BYTES, 'open');
    spillFd = openSync(pipePath(name.spill), constants.O_WRONLY);
    hostBellFd = openSync(pipePath(name.hostBell), constants.O_WRONLY);
  } catch {
    for (const fd of [spillFd, hostBellFd]) if (fd >= 0) closeSync(fd);
    return null;
  }
  const done = namedEvent(name.done, 'open');
  const wake = namedEvent(name.wake, 'open');
  if (done === null || wake === null) {
    done?.close();
    wake?.close();
    closeSync(spillFd);
    closeSync(hostBellFd);
    return null;
  }
  const bell = { ring: () => { try { writeSync(hostBellFd, ONE_BYTE); } catch { /* the host is gone */ } } };
  const signals = new NamedWorkerSignals({ done, wake }, bell, spillFd);
  const socket = listenBell(connect(pipePath(name.workerBell)), signals.rang);
  socket.once('connect', () => { signals.connected = true; });
  // Never unmapped: the process ends with its version (see openInheritedRing).
  return { buffer: mapping.buffer, signals };
}
