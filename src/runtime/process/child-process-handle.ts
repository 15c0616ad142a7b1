import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { IsoswapError } from '../../errors.js';
import { SYNC_OP, type LibraryServiceApi } from '../../wire/protocol.js';
import type { Deadline } from '../../transport/blocking-wait.js';
import { ipcEndpoint, releasableEndpoint, wrap, type Remote } from '../rpc.js';
import { platform } from '../../platform/platform.js';
import { napSync } from '../../platform/nap.js';
import { withExtras, type ChildExtras } from '../../wire/inherited-fds.js';
import { ProcessSyncCall } from '../../transport/sync-pipe-call.js';
import { CallChannel } from '../../transport/call-channel.js';
import { createProcessRing, type ProcessRing } from '../../transport/process-ring.js';
import type { NamedRing } from '../../transport/named-ring.js';
import { PendingRequests } from '../pending-requests.js';
import { answerCallback } from '../../transport/host-callbacks.js';
import { nextMark, type RuntimeHandle } from '../runtime-handle.js';

// One CommonJS script (npm run build bundles workers/process-worker.ts): a child that starts
// from an ES module pays the ESM loader's resolution and linking, ~10 ms of every start.
const ENTRY = fileURLToPath(new URL('../../../workers/process-worker.cjs', import.meta.url));
/** How long a child may take to exit after unload and disconnect before it is SIGKILLed. */
const EXIT_GRACE_MS = 2000;
/** How long the requests of a dead child wait for its IPC channel to hand over its last answers. */
const IPC_DRAIN_MS = 1000;

/** Attempts at a spawn that fails at once with a transient error, and the pause between. */
const SPAWN_ATTEMPTS = 3;
const SPAWN_RETRY_PAUSE_MS = 20;
/** What a spawn throws when the system could not start a process just now: EAGAIN (a
 *  process or memory limit reached for a moment), UNKNOWN (Windows' CreateProcess failing,
 *  as Wine's does now and then under load). */
const TRANSIENT_SPAWN_ERRORS = new Set(['EAGAIN', 'UNKNOWN']);

/**
 * Runs `spawn` (a fork, which throws when the process cannot be started), again after a
 * short pause when it failed with a transient error, at most SPAWN_ATTEMPTS times: a
 * standby or a version that fails to start fails the host's start or its swap. The pause
 * blocks, on a path taken only after such a failure.
 */
export function spawnRetrying<T>(spawn: () => T, pause: (ms: number) => void = napSync): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return spawn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (attempt >= SPAWN_ATTEMPTS || code === undefined || !TRANSIENT_SPAWN_ERRORS.has(code)) throw err;
      pause(SPAWN_RETRY_PAUSE_MS);
    }
  }
}

/**
 * One child process and the comlink proxy to its LibraryService. comlink's promises never
 * settle when the process dies, so every request is tracked here and rejected with
 * ERR_VERSION_CRASHED when the process exits on its own (signal or exit code).
 */
export class ChildProcessHandle implements RuntimeHandle {
  readonly child: ChildProcess;
  readonly remote: Remote<LibraryServiceApi>;
  /** The blocking path (host.callSync): a pair of pipes, the child's fds 4 and 5. */
  readonly syncCall: ProcessSyncCall;
  /** The shared-memory call ring (a memfd the child inherits; Windows: a named file
   *  mapping); null where it could not be made: every call then goes over IPC and the pipes. */
  readonly channel: CallChannel | null;
  readonly #ring: ProcessRing | NamedRing | null;
  /** Requests sent and not yet answered. */
  label = 'process';
  #death: IsoswapError | null = null;
  /** Set by kill(reason): later requests reject with it at once. */
  #killReason: IsoswapError | null = null;
  #stopping = false;
  readonly #pending = new PendingRequests();
  readonly ready: Promise<void>;
  #exitedNow!: () => void;
  readonly #exited = new Promise<void>((resolve) => { this.#exitedNow = resolve; });
  #onCrash: ((error: IsoswapError) => void) | null = null;

  /**
   * Forks a child; it imports koffi and waits for a load request.
   * @param extras descriptors (after fds 4 and 5) and environment the child inherits
   */
  constructor(extras: ChildExtras = {}) {
    this.syncCall = new ProcessSyncCall(() => this.label, () => this.#diedDuringCallSync(), () => this.channel?.nudge());
    this.#ring = createProcessRing();
    try {
      // the library's printf shows; fds 4 and 5 carry callSync; the ring's fds come last
      const { stdio, env } = withExtras(['inherit', 'inherit', 'inherit', 'ipc', ...this.syncCall.childFds],
        { fds: { ...extras.fds, ...this.#ring?.childFds }, env: { ...extras.env, ...this.#ring?.childEnv, ...this.syncCall.childEnv } });
      this.child = spawnRetrying(() => fork(ENTRY, [String(process.pid)], {
        serialization: 'advanced', // structured clone: bigint, typed arrays, Maps cross as in threads
        stdio,
        env,
        execArgv: [], // not the host's flags (--test, --inspect, --watch...)
      }));
    } catch (err) {
      this.syncCall.close();
      this.#ring?.release();
      throw err;
    } finally {
      this.syncCall.closeChildEnds();
      this.#ring?.closeChildEnds();
    }
    this.syncCall.child = this.child.pid ?? 0;
    const signals = this.#ring?.signals(() => this.#diedDuringCallSync());
    this.channel = this.#ring === null || signals === undefined ? null
      : new CallChannel(() => this.label, this.#ring.mapping.buffer, signals.side, signals);
    const endpoint = releasableEndpoint(ipcEndpoint(this.child, (written) => this.#nudgeUntil(written)));
    this.remote = wrap<LibraryServiceApi>(endpoint.endpoint);
    this.ready = new Promise((resolve) => {
      const onMessage = (message: unknown): void => {
        if ((message as { isoswapReady?: boolean } | null)?.isoswapReady !== true) return;
        this.child.off('message', onMessage);
        resolve();
      };
      this.child.on('message', onMessage);
    });
    // An addon calling a host function back: it reads the answer from its callSync pipe.
    this.child.on('message', (message: unknown) => answerCallback(message, (answer) => this.syncCall.send({ isoswapReply: answer })));
    this.child.once('exit', (code, signal) => {
      this.#die(this.#exitError(code, signal));
      // On the event loop, so no callSync is inside the ring (a callSync that saw the child
      // die still holds views over it until it returns).
      this.#ring?.release();
      this.#exitedNow(); // once Node has reaped it, not at a callSync that saw it die
      endpoint.release();
    });
    // Without a listener an 'error' (fork failed, channel broke) would be thrown in the host.
    this.child.on('error', (err) => {
      if (this.child.pid === undefined) {
        this.#die(new IsoswapError('ERR_VERSION_CRASHED', `${this.label} could not start: ${err.message}`, {}, { cause: err }));
        this.#ring?.release();
        this.#exitedNow();
      }
    });
  }

  /**
   * After an IPC message: a child blocked on its ring reads nothing until nudged, and a
   * message larger than the pipe is written only as the child reads. So the child is
   * nudged on every turn of this event loop until the message is out, and once after.
   */
  readonly #nudgeUntil = (written: () => boolean, again = false): void => {
    if (written() && !again) return;
    this.channel?.nudge();
    if (!written() && this.child.connected) setImmediate(this.#nudgeUntil, written, true);
  };

  /** A standby child must not keep the program alive; one that serves must. */
  ref(): void {
    this.child.ref();
    this.child.channel?.ref();
  }

  unref(): void {
    this.child.unref();
    this.child.channel?.unref();
  }

  readonly kind = 'process';

  /** Calls in flight. */
  get busy(): number {
    return this.#pending.size + (this.channel?.inflight ?? 0);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.#death === null;
  }

  onCrash(listener: (error: IsoswapError) => void): void {
    this.#onCrash = listener;
  }

  /** Sends one request once the child is ready; rejects with ERR_VERSION_CRASHED if it dies first. */
  request<T>(send: (remote: Remote<LibraryServiceApi>) => Promise<T>): Promise<T> {
    const refused = this.#killReason ?? this.#death;
    if (refused !== null) return Promise.reject(refused);
    return this.#pending.track(this.ready.then(() => send(this.remote)));
  }

  /** The calls on the ring first; then, the child running IPC calls in order as they
   *  arrive, a mark sent behind them over IPC (now: the child is loaded, hence ready) is
   *  reached after them. */
  settleSync(deadline: Deadline): void {
    this.channel?.settleAllSync(deadline);
    if (this.#pending.size === 0) return;
    const seq = nextMark();
    this.#pending.track(this.remote.call(SYNC_OP.mark, [seq])).catch(() => {});
    this.syncCall.awaitMark(seq, deadline);
  }

  /** dlclose in the child, then close its channel: it exits by itself (else SIGKILL). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.ref(); // an unref'd (standby) child would let the program end while it is awaited
    if (this.#death === null && this.#killReason === null) {
      await this.request((r) => r.unload()).catch(() => {});
    }
    if (this.child.connected) this.child.disconnect();
    const exited = await Promise.race([this.#exited.then(() => true), sleep(EXIT_GRACE_MS, false, { ref: false })]);
    if (!exited) await this.kill();
  }

  /** SIGKILLs the child (it is stuck, or already dead); requests still pending reject with
   *  `reason` when one is given, else with the process's death. */
  async kill(reason?: IsoswapError): Promise<void> {
    this.#stopping = true;
    this.ref(); // an unref'd (standby) child would let the program end while it is awaited
    if (this.#death === null) {
      if (reason !== undefined) {
        this.#killReason = reason;
        this.#pending.failAll(reason);
        this.channel?.fail(reason);
      }
      this.child.kill('SIGKILL');
    }
    await this.#exited;
  }

  /**
   * The callSync pipe closed: the child is dead, and the host, blocked, cannot get the
   * 'exit' event. Recorded now, as 'exit' would, so that the host restarts the build (and
   * holds the calls that follow) before callSync returns.
   */
  #diedDuringCallSync(): IsoswapError {
    const pid = this.child.pid;
    const status = pid === undefined ? null : platform().exitStatus(pid);
    this.#die(status === null
      ? new IsoswapError('ERR_VERSION_CRASHED', `${this.label} (pid ${pid}) died during callSync`, { pid })
      : this.#exitError(status.exitCode, status.signal));
    return this.#killReason ?? this.#death!;
  }

  /** Settles once the IPC channel has delivered every message the child sent (its
   *  'disconnect' comes after them), at most IPC_DRAIN_MS: a process the library forked
   *  may hold the channel open. */
  #ipcDrained(): Promise<void> {
    if (!this.child.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, IPC_DRAIN_MS);
      timer.unref();
      this.child.once('disconnect', done);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** The raw exit status in `details`, and the system's name for it where it has one
   *  (Windows: 0xC0000005 is STATUS_ACCESS_VIOLATION). */
  #exitError(code: number | null, signal: NodeJS.Signals | null): IsoswapError {
    const name = platform().crashName(code);
    const how = signal !== null ? `was killed by ${signal}`
      : `exited with code ${code}${name === undefined ? '' : ` (0x${(code! >>> 0).toString(16)}, ${name})`}`;
    return new IsoswapError('ERR_VERSION_CRASHED', `${this.label} (pid ${this.child.pid}) ${how}`,
      { exitCode: code, signal, pid: this.child.pid, ...(name === undefined ? {} : { status: name }) });
  }

  #die(death: IsoswapError): void {
    if (this.#death !== null) return;
    this.#death = death;
    this.syncCall.close(this.#killReason ?? death);
    // An answer the child sent before it died is still an answer: the calls it answered
    // over IPC resolve once the channel has handed over what it holds.
    this.#pending.failAll(this.#killReason ?? death, this.#ipcDrained());
    // The calls the child held on the ring, exactly those.
    this.channel?.fail(this.#killReason ?? death);
    if (!this.#stopping) this.#onCrash?.(death);
  }
}
