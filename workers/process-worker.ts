// Entry of a child process that runs one version (isolation: 'process'). A segfault,
// abort() or exit() in the library ends this process only; the host sees it exit.
import { childIpcEndpoint, expose } from '../src/runtime/rpc.js';
import { LibraryService } from '../src/runtime/library-service.js';
import type { LoadReport, LoadRequest } from '../src/wire/protocol.js';
import { ChannelServer } from '../src/transport/channel-server.js';
import { ringEntries } from '../src/transport/channel-signature.js';
import { openInheritedRing } from '../src/transport/process-ring.js';
import { withAddons } from '../src/runtime/addon-service.js';
import { processCallHost } from '../src/runtime/addon-callbacks.js';
import { serveAddonRing } from '../src/runtime/addon-ring.js';
import { answerMark, serveSyncPipe } from '../src/transport/sync-pipe-server.js';
import { libc } from '../src/library/libc.js';
import { flushStdoutIfAsked } from '../src/library/stdout-flush.js';
import { platform } from '../src/platform/platform.js';

// Chosen (and this thread's system calls declared) before any guest code runs: see libc.ts.
platform();

if (process.send === undefined) throw new Error('process-worker.js must be started by child_process.fork');

// Ctrl-C reaches the whole foreground process group: the host, closing, must not find its
// children already dead and report crashes. The host ends this process (IPC or SIGKILL).
process.on('SIGINT', () => {});
// The parent went away (closed the channel, or died): nothing is left to serve.
process.on('disconnect', () => process.exit(0));
dieWithParent();
flushStdoutIfAsked(); // `isoswap run` reads our stdout: lines should not wait for 4 KiB
platform().followRedirectedOutput(); // Windows: onto `isoswap run`'s pipes, which fds 1 and 2 are not

/** The call ring the host passed (a memfd and pipes), mapped now: a standby child is ready
 *  before a swap needs it. */
const ring = openInheritedRing();

/** The LibraryService plus the shared-memory ring. */
class ProcessLibraryService extends LibraryService {
  #server: ChannelServer | null = null;

  override load(request: LoadRequest): LoadReport {
    const report = super.load(request);
    if (request.processRing !== true || ring === null) return report;
    const { entries, fast } = ringEntries(report.functions, (name) => this.fn(name));
    // May block in a futex between calls: the host nudges after each IPC message and sync
    // pipe request (child-process-handle.ts); PR_SET_PDEATHSIG ends it if the host dies.
    this.#server = new ChannelServer(ring.buffer, entries, undefined, ring.signals.side, ring.signals, { block: true });
    this.#server.start();
    return { ...report, fast };
  }

  override unload(): void {
    this.#server?.stop();
    this.#server = null;
    super.unload();
  }
}

const library = new ProcessLibraryService();
library.onMark = answerMark;
// A Node-API addon has its own service; its exports on the ring too.
const service = withAddons(library, (addon, request, report) => {
  if (request.processRing !== true || ring === null) return { stop: () => {} };
  return serveAddonRing(addon, report, ring.buffer, ring.signals.side, ring.signals);
}, undefined, processCallHost());
expose(service, childIpcEndpoint(process));
serveSyncPipe({ call: service.callSync }); // host.callSync: its own pipes, which the host can block on
// Messages that arrive before a 'message' listener exists are dropped, and importing
// koffi takes a while: the host waits for this before it sends anything.
process.send({ isoswapReady: true });

/**
 * Asks Linux to SIGKILL this process when the host dies. 'disconnect' does that only
 * while JavaScript runs; a call stuck in native code would outlive a host that was
 * SIGKILLed.
 */
function dieWithParent(): void {
  if (!platform().inheritedChannels) return; // prctl is Linux's; Windows: see docs/platforms.md
  const PR_SET_PDEATHSIG = 1;
  const SIGKILL = 9;
  try {
    const prctl = libc().func('int prctl(int option, ...)');
    prctl(PR_SET_PDEATHSIG, 'unsigned long', SIGKILL);
  } catch {
    // without it, a host that dies leaves a stuck child until its call returns
  }
  // The host passes its pid: if it died before prctl, the signal would never come.
  if (process.argv[2] !== undefined && process.ppid !== Number(process.argv[2])) process.exit(0);
}
