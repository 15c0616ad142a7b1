import { ChannelServer } from '../transport/channel-server.js';
import type { RingSideChannel } from '../transport/ring-codec.js';
import type { WorkerSignals } from '../transport/ring-signals.js';
import type { FastSignature, LoadReport } from '../wire/protocol.js';
import type { AddonService } from './addon-service.js';

/** Every export of an addon takes the ring with tagged values (ring-values.ts); a call whose
 *  arguments the ring does not carry takes the message path (the host decides per call). */
const TAGGED: FastSignature = { args: [], result: 'void', tagged: true };

/**
 * Serves an addon's exports on the worker's call ring (both workers: a thread's
 * SharedArrayBuffer, a child's inherited memfd); returns how to stop, and what to report
 * as `fast`. Between calls the server parks on the event loop, never blocks it: an addon's
 * async work completes, and its threadsafe functions call back, through that loop, from
 * handles Node does not list (a blocked worker would hold them until its slice ended).
 */
export function serveAddonRing(
  addon: AddonService, report: LoadReport, buffer: ArrayBufferLike, side: RingSideChannel | undefined, signals: WorkerSignals | undefined,
): { stop(): void; fast: Record<string, FastSignature> } {
  const server = new ChannelServer(buffer, addon.ringEntries(), undefined, side, signals, { block: false });
  server.start();
  const fast = Object.create(null) as Record<string, FastSignature>; // any name, `__proto__` too
  for (const name of report.functions) fast[name] = TAGGED;
  return { stop: () => server.stop(), fast };
}
