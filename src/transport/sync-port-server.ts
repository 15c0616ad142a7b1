import type { MessagePort } from 'node:worker_threads';
import { IsoswapError } from '../errors.js';
import type { MarkReply, SyncReply } from '../wire/protocol.js';

/**
 * The worker side of src/transport/sync-port-call.ts: answers each blocking call on
 * `port`, then bumps `replies[0]` and wakes the host.
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
    bump(replies);
  };
  port.on('message', onMessage);
  return () => port.off('message', onMessage);
}

/**
 * Answers mark `seq` on the blocking path (a host blocked in a swap's drain waits for it).
 */
export function answerMark(port: MessagePort, replies: Int32Array, seq: number): void {
  port.postMessage({ ok: true, value: { isoswapMark: seq } satisfies MarkReply } satisfies SyncReply);
  bump(replies);
}

function bump(replies: Int32Array): void {
  Atomics.add(replies, 0, 1);
  Atomics.notify(replies, 0);
}
