import type { MessagePort } from 'node:worker_threads';
import { IsoswapError } from '../errors.js';
import type { SyncReply } from '../runtime/protocol.js';

/**
 * The worker side of src/transport/sync-port-call.ts: answers each blocking call on
 * `port`, then bumps `replies[0]` and wakes the host.
 *
 * @example
 * serveSyncPort(workerData.syncPort, workerData.syncReplies, (n, a) => service.call(n, a));
 */
export function serveSyncPort(port: MessagePort, replies: Int32Array, call: (name: string, args: unknown[]) => unknown): () => void {
  const onMessage = ({ name, args }: { name: string; args: unknown[] }): void => {
    let reply: SyncReply;
    try {
      reply = { ok: true, value: call(name, args) };
    } catch (err) {
      reply = { ok: false, error: err instanceof IsoswapError ? err.toJSON() : String((err as Error)?.message ?? err) };
    }
    try {
      port.postMessage(reply);
    } catch (err) {
      port.postMessage({ ok: false, error: `the result of ${name} cannot be sent: ${(err as Error).message}` } satisfies SyncReply);
    }
    Atomics.add(replies, 0, 1);
    Atomics.notify(replies, 0);
  };
  port.on('message', onMessage);
  return () => port.off('message', onMessage);
}
