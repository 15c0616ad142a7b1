import type { MessagePort } from 'node:worker_threads';
import { isCallbackRequest, type CallbackReply } from '../wire/addon-wire.js';

/** A host function as the guest calls it: wire arguments in, its result (awaited) out. */
export type HostCallback = (args: unknown[]) => unknown;

const callbacks = new Map<number, HostCallback>();
let lastId = 0;

/**
 * Makes `fn` callable from a guest by id until `unregisterCallback(id)` (its version retired).
 * Ids are unique in this process, so every runtime handle answers from one table.
 */
export function registerCallback(fn: HostCallback): number {
  callbacks.set(++lastId, fn);
  return lastId;
}

export function unregisterCallback(id: number): void {
  callbacks.delete(id);
}

/**
 * Runs the host function a guest asked for (a message on the worker's or child's channel)
 * and gives `reply` its answer; false when `message` is not such a request.
 */
export function answerCallback(message: unknown, reply: (answer: CallbackReply) => void): boolean {
  if (!isCallbackRequest(message)) return false;
  const { id, args } = message.isoswapCallback;
  const fn = callbacks.get(id);
  void (async (): Promise<CallbackReply> => {
    if (fn === undefined) return { ok: false, error: { name: 'Error', code: 'ERR_VERSION_RETIRED', message: `host callback ${id} is no longer served: its version retired` } };
    try {
      return { ok: true, value: await fn(args) };
    } catch (err) {
      const { name = 'Error', message = String(err), code } = (err ?? {}) as { name?: string; message?: string; code?: unknown };
      return { ok: false, error: { name, message, code: typeof code === 'string' ? code : undefined } };
    }
  })().then((answer) => {
    try {
      reply(answer);
    } catch (err) {
      reply({ ok: false, error: { name: 'Error', code: 'ERR_NOT_CLONEABLE', message: `the result of a host callback cannot cross to the addon: ${(err as Error).message}` } });
    }
  });
  return true;
}

/** Thread isolation: the reply port and wake word a worker sent with its request. */
export interface ThreadCallbackRequest { reply: MessagePort; wake: Int32Array }

/**
 * The thread form of the answer: posted on the request's own port, then the worker,
 * blocked in Atomics.wait on `wake`, is woken.
 */
export function answerThreadCallback(message: unknown): boolean {
  return answerCallback(message, (answer) => {
    const { reply, wake } = message as ThreadCallbackRequest;
    try {
      reply.postMessage(answer);
    } finally {
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
    }
  });
}
