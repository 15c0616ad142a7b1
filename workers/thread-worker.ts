// Entry of a worker thread that runs one version. koffi is imported before the host asks
// for anything, so a pre-started (standby) worker only has to dlopen.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { CODE_CACHE_KEY, type LoadReport, type LoadRequest } from '../src/wire/protocol.js';
import { expose, nodeEndpoint } from '../src/runtime/rpc.js';
import { ChannelServer } from '../src/transport/channel-server.js';
import { ringEntries } from '../src/transport/channel-signature.js';
import { answerMark, serveSyncPort } from '../src/transport/sync-port-server.js';
import { LibraryService } from '../src/runtime/library-service.js';
import { nameThisThread } from '../src/library/guest-threads.js';
import { platform } from '../src/platform/platform.js';
import { withAddons } from '../src/runtime/addon-service.js';
import { threadCallHost } from '../src/runtime/addon-callbacks.js';
import { serveAddonRing } from '../src/runtime/addon-ring.js';

// Chosen (and this thread's system calls declared) before any guest code runs: see libc.ts.
platform();

if (parentPort === null) throw new Error('thread-worker.js must run in a worker thread');
const { syncPort, syncReplies, ringPort } = (workerData ?? {}) as { syncPort?: MessagePort; syncReplies?: Int32Array; ringPort?: MessagePort };
/** The ring's side channel (ring-codec.ts): long string results out. */
const side = ringPort === undefined ? undefined : {
  post: (message: unknown) => ringPort.postMessage(message),
  receive: (): unknown => receiveMessageOnPort(ringPort)?.message,
};

/** Loads a version under the thread's name for it (LoadRequest.threadName): taken before
 *  dlopen, since threads a library (or addon) constructor starts inherit it too. */
function named(request: LoadRequest, load: () => LoadReport): LoadReport {
  if (request.threadName !== undefined) nameThisThread(request.threadName);
  return { ...load(), threadName: request.threadName, tids: [platform().threadId()] };
}

/** The LibraryService plus the shared-memory channel and the blocking message path. */
class ThreadLibraryService extends LibraryService {
  #server: ChannelServer | null = null;
  #stopSync: (() => void) | null = null;

  override load(request: LoadRequest): LoadReport {
    const report = named(request, () => super.load(request));
    if (request.channel === undefined) return report;
    const state = request.state?.kind === 'shared' ? request.state.buffer : undefined;
    const { entries, fast } = ringEntries(report.functions, (name) => this.fn(name));
    // May block between calls: the host nudges after each message (thread-worker-handle.ts).
    this.#server = new ChannelServer(request.channel, entries, state, side, undefined, { block: true });
    this.#server.start();
    if (syncPort !== undefined && syncReplies !== undefined) {
      this.#stopSync = serveSyncPort(syncPort, syncReplies, (name, args) => this.call(name, args));
    }
    return { ...report, fast };
  }

  override unload(): void {
    this.#server?.stop();
    this.#stopSync?.();
    this.#server = this.#stopSync = null;
    super.unload();
  }
}

const library = new ThreadLibraryService();
if (syncPort !== undefined && syncReplies !== undefined) library.onMark = (seq) => answerMark(syncPort, syncReplies, seq);
// A Node-API addon (createAddonHost) is served by its own service, blocking calls included.
const service = withAddons(library, (addon, request, report) => {
  // The exports on the ring (serveAddonRing: parked on the event loop between calls).
  const ring = request.channel === undefined ? undefined : serveAddonRing(addon, report, request.channel, side, undefined);
  const stopSync = syncPort === undefined || syncReplies === undefined ? () => {} : serveSyncPort(syncPort, syncReplies, (name, args) => addon.callSync(name, args));
  return { stop: () => { ring?.stop(); stopSync(); }, fast: ring?.fast };
}, named, threadCallHost((message, transfer) => parentPort!.postMessage(message, transfer),
  syncPort === undefined || syncReplies === undefined ? undefined : { port: syncPort, replies: syncReplies }));
const makeCodeCache = (globalThis as Record<symbol, (() => Uint8Array) | undefined>)[Symbol.for(CODE_CACHE_KEY)];
expose({ ...service, codeCache: () => makeCodeCache?.() ?? null }, nodeEndpoint(parentPort));
