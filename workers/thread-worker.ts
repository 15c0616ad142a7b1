// Entry of a worker thread that runs one version. koffi is imported before the host asks
// for anything, so a pre-started (standby) worker only has to dlopen.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { LoadReport, LoadRequest } from '../src/runtime/protocol.js';
import { expose, nodeEndpoint } from '../src/runtime/rpc.js';
import { ChannelServer, type ChannelEntry } from '../src/transport/channel-server.js';
import { fastSignature, type PrototypeInfoLike } from '../src/transport/channel-signature.js';
import { answerMark, serveSyncPort } from '../src/transport/sync-port-server.js';
import { LibraryService } from '../src/runtime/library-service.js';
import { withAddons } from '../src/runtime/addon-service.js';

if (parentPort === null) throw new Error('thread-worker.js must run in a worker thread');
const { syncPort, syncReplies } = (workerData ?? {}) as { syncPort?: MessagePort; syncReplies?: Int32Array };

/** The LibraryService plus the shared-memory channel and the blocking message path. */
class ThreadLibraryService extends LibraryService {
  #server: ChannelServer | null = null;
  #stopSync: (() => void) | null = null;

  override load(request: LoadRequest): LoadReport {
    const report = super.load(request);
    if (request.channel === undefined) return report;
    const state = request.state?.kind === 'shared' ? request.state.buffer : undefined;
    const fast: NonNullable<LoadReport['fast']> = {};
    const entries = report.functions.map((name): ChannelEntry | null => {
      const fn = this.fn(name);
      const signature = fastSignature((fn as unknown as { info: PrototypeInfoLike }).info, state !== undefined);
      if (signature === null) return null;
      fast[name] = signature;
      return { fn, signature };
    });
    this.#server = new ChannelServer(request.channel, entries, state);
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
const service = withAddons(library, (addon) =>
  syncPort === undefined || syncReplies === undefined ? () => {} : serveSyncPort(syncPort, syncReplies, (name, args) => addon.callSync(name, args)));
expose(service, nodeEndpoint(parentPort));
