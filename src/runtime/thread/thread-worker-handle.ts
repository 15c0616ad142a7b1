import { setTimeout as delay } from 'node:timers/promises';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { CallChannel } from '../../transport/call-channel.js';
import type { RingPool } from '../../transport/ring-pool.js';
import { SyncMessageCall } from '../../transport/sync-port-call.js';
import { IsoswapError } from '../../errors.js';
import { SYNC_OP, type LibraryServiceApi } from '../../wire/protocol.js';
import type { Deadline } from '../../transport/blocking-wait.js';
import { afterPost, nodeEndpoint, releasableEndpoint, releaseProxy, wrap, type Remote } from '../rpc.js';
import { PendingRequests } from '../pending-requests.js';
import { nextMark, type RuntimeHandle } from '../runtime-handle.js';
import { workerBoot } from './code-cache.js';
import { answerThreadCallback } from '../../transport/host-callbacks.js';
import { loaderHeld, loaderStuck, loaderWork, whenLoaderFree } from '../../library/loader-sweep.js';

/** How long kill() lets a thread that is still starting finish before terminating it. */
const START_GRACE_MS = 5_000;

/** A worker thread's service: a version's, and the code cache of the thread's bundle
 *  (code-cache.ts), null where none can be made. */
export interface ThreadServiceApi extends LibraryServiceApi {
  codeCache(): Uint8Array | null;
}

/**
 * One worker thread and the comlink proxy to its LibraryService. comlink's promises never
 * settle when the thread dies, so every request is tracked here and rejected with
 * ERR_VERSION_CRASHED on an exit nobody asked for.
 */
export class ThreadWorkerHandle implements RuntimeHandle {
  readonly worker: Worker;
  readonly remote: Remote<ThreadServiceApi>;
  /** The shared-memory call channel (fast path) and the blocking message path. */
  readonly channel: CallChannel;
  readonly syncCall: SyncMessageCall;
  /** Requests sent and not yet answered. */
  label = 'worker';
  #death: IsoswapError | null = null;
  #stopping = false;
  #lastError: Error | null = null;
  /** Set once the thread answered a request: it has imported koffi. */
  #answered = false;
  readonly #pending = new PendingRequests();
  readonly ready: Promise<void>;
  readonly #exited: Promise<number>;
  #onCrash: ((error: IsoswapError) => void) | null = null;
  /** The load or unload (guest constructors, destructors) the thread runs now, if any. */
  #loaderRequest: Promise<unknown> | null = null;
  #released = false;
  /** Why kill() ended the thread, if it was told. */
  #endedBy: IsoswapError | undefined;

  /**
   * Starts a thread; it imports koffi and waits for a load request.
   * @param rings where the channel's ring comes from and goes back to once the thread ended
   */
  constructor(rings?: RingPool) {
    const ring = rings?.take();
    // The ring's side channel (ring-codec.ts); never listened to, so it keeps nothing alive.
    const { port1: ringHost, port2: ringPort } = new MessageChannel();
    this.channel = new CallChannel(() => this.label, ring, {
      post: (message) => ringHost.postMessage(message),
      receive: (): unknown => receiveMessageOnPort(ringHost)?.message,
    });
    this.syncCall = new SyncMessageCall(() => this.channel.assertAlive(), () => this.channel.nudge());
    const { workerPort: syncPort, replies: syncReplies } = this.syncCall;
    const { boot, bundle } = workerBoot();
    this.worker = new Worker(boot, { eval: true, workerData: { syncPort, syncReplies, ringPort, bundle }, transferList: [syncPort, ringPort] });
    const endpoint = releasableEndpoint(afterPost(nodeEndpoint(this.worker), () => this.channel.nudge()));
    this.remote = wrap<ThreadServiceApi>(endpoint.endpoint);
    // A comlink GET is answered once the worker module, koffi included, has run.
    this.ready = Promise.resolve((this.remote as unknown as Record<string, unknown>)['started']).then(() => {}, () => {});
    // An 'error' without a listener would be rethrown in the host: a JS fault in a
    // version must never take the host down.
    this.worker.on('error', (err) => { this.#lastError = err; });
    this.worker.on('message', answerThreadCallback); // an addon calling a host function back
    this.#exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        const why = this.#lastError ? `: ${this.#lastError.message}` : '';
        this.#death = new IsoswapError('ERR_VERSION_CRASHED', `${this.label} exited with code ${code}${why}`, { exitCode: code });
        this.#pending.failAll(this.#death);
        this.channel.fail(this.#death);
        this.syncCall.close();
        ringHost.close();
        endpoint.release();
        if (ring !== undefined) rings?.give(ring); // the thread that used it is gone
        if (!this.#stopping) this.#onCrash?.(this.#death);
        resolve(code);
      });
    });
  }

  readonly kind = 'worker';

  /** A standby thread must not keep the program alive; one that serves must. */
  ref(): void {
    this.worker.ref();
  }

  unref(): void {
    this.worker.unref();
  }

  get alive(): boolean {
    return this.#death === null;
  }

  /** Calls in flight on both paths. */
  get busy(): number {
    return this.#pending.size + this.channel.inflight;
  }

  onCrash(listener: (error: IsoswapError) => void): void {
    this.#onCrash = listener;
  }

  /** Sends one request; rejects with ERR_VERSION_CRASHED if the thread dies first. */
  request<T>(send: (remote: Remote<ThreadServiceApi>) => Promise<T>): Promise<T> {
    if (this.#death !== null) return Promise.reject(this.#death);
    // Ended by kill() (close({ force: true })) while a retiring version still tears down:
    // comlink's released proxy would throw at once, which the teardown reported as a crash.
    if (this.#released) return Promise.reject(this.#endedBy ?? new IsoswapError('ERR_VERSION_CRASHED', `${this.label} was ended`));
    return this.#pending.track(send(this.remote).then((value) => { this.#answered = true; return value; }));
  }

  /** A load or unload: guest constructors or destructors, run under glibc's loader lock
   *  (loader-sweep.ts counts it while it runs). */
  loaderRequest<T>(send: (remote: Remote<ThreadServiceApi>) => Promise<T>): Promise<T> {
    let sent: Promise<T> | undefined;
    const answer = this.request((remote) => (sent = send(remote)));
    if (sent === undefined) return answer; // the thread is gone
    // The thread's own answer, not `answer`: a kill rejects that at once, while the thread
    // may still be inside the constructor or destructor.
    const returned = Promise.race([sent, this.#exited]).then(() => {}, () => {});
    this.#loaderRequest = returned;
    void loaderWork(returned).then(() => { if (this.#loaderRequest === returned) this.#loaderRequest = null; });
    return answer;
  }

  /** The calls on the channel are answered in shared memory; those on the message path
   *  run in order as they arrive, so a mark sent behind them is reached after them. */
  settleSync(deadline: Deadline): void {
    this.channel.settleAllSync(deadline);
    if (this.#pending.size === 0) return;
    const seq = nextMark();
    this.request((r) => r.call(SYNC_OP.mark, [seq])).catch(() => {});
    this.syncCall.awaitMark(seq, deadline);
  }

  /** dlclose in the thread, then end the thread; thread-local destructors run as it exits. */
  async stop(): Promise<void> {
    // While a guest may hold the loader lock, a dlclose would wait for it: the thread ends
    // without one, and the copy stays mapped (nothing could unmap it meanwhile anyway).
    if (this.#death === null && !loaderHeld()) {
      await this.loaderRequest((r) => r.unload()).catch(() => {});
    }
    await this.kill();
  }

  /** Ends the thread without unloading (it is stuck or dead); requests still pending
   *  reject with `reason` when one is given. */
  async kill(reason?: IsoswapError): Promise<void> {
    this.#stopping = true;
    this.#endedBy ??= reason;
    if (reason !== undefined && this.#death === null) {
      this.#pending.failAll(reason);
      this.channel.fail(reason);
    }
    // Killed inside a load or an unload (past its deadline): the thread runs a guest
    // constructor or destructor under the loader lock, perhaps for ever. Terminating it
    // there would abort the process once dlopen returns (napi_throw), and terminate() would
    // wait for it anyway: it is ended once that returns, if ever; kill() returns now.
    const loading = this.#loaderRequest;
    if (loading !== null) {
      loaderStuck(loading);
      this.worker.unref();
      void loading.then(() => this.kill(), () => this.kill());
      return;
    }
    // A thread's end dlcloses the libraries its koffi instance loaded: while a stuck guest
    // holds the loader lock, that waits on it (terminate() with it). Ended once it is free.
    if (loaderHeld()) {
      this.worker.unref();
      void whenLoaderFree().then(() => this.kill());
      return;
    }
    // terminate() while the thread is still loading koffi's addon aborts the whole process
    // ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw"): a thread that never
    // answered (a standby ended at close) first finishes starting. A comlink GET is
    // answered only once the worker module, koffi included, has run; a thread stuck in a
    // native constructor never answers, hence the bound.
    if (!this.#answered && this.#death === null) {
      this.worker.ref(); // a standby is unref'd: keep the program alive until it is ended
      // A GET sent now, not `ready`: it is answered after the messages already queued (a
      // standby's rehearsal load), so that terminate() never lands inside koffi.load.
      const started = Promise.resolve((this.remote as unknown as Record<string, unknown>)['started']);
      const answered = await Promise.race([started.then(() => true), this.#exited.then(() => true),
        delay(START_GRACE_MS, false, { ref: false })]).catch(() => true);
      if (!answered) {
        // Still starting: it is ended once it has started, if ever; kill() returns now, so
        // that close() does.
        this.worker.unref();
        void started.then(() => { this.#answered = true; return this.kill(); }, () => {});
        return;
      }
    }
    if (!this.#released) this.remote[releaseProxy]();
    this.#released = true;
    await this.worker.terminate();
    await this.#exited;
  }
}
