import { IsoswapError, type IsoswapErrorCode } from '../errors.js';

interface Pending<T> {
  peer: string;
  resolve(value: T): void;
  reject(error: IsoswapError): void;
  timer: NodeJS.Timeout;
}

/** Requests sent and not answered yet, by request id: each settles once, by its answer,
 *  its deadline, or the loss of its peer or link. */
export class PendingReplies<T> {
  #next = 0;
  readonly #pending = new Map<number, Pending<T>>();

  open(peer: string, timeoutMs: number, what: string, code: IsoswapErrorCode = 'ERR_FLEET_TRANSPORT'): { rid: number; reply: Promise<T> } {
    const rid = ++this.#next;
    const reply = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(new IsoswapError(code, `${what}: no answer within ${timeoutMs} ms`, { timeoutMs }));
      }, timeoutMs);
      this.#pending.set(rid, { peer, resolve, reject, timer });
    });
    reply.catch(() => {}); // failed before its sender awaits it (a link lost mid-send): not unhandled
    return { rid, reply };
  }

  settle(rid: number, value: T): void {
    const pending = this.#take(rid);
    pending?.resolve(value);
  }

  failMember(peer: string, error: IsoswapError): void {
    for (const [rid, pending] of this.#pending) if (pending.peer === peer) this.#take(rid)?.reject(error);
  }

  failAll(error: IsoswapError): void {
    for (const rid of [...this.#pending.keys()]) this.#take(rid)?.reject(error);
  }

  #take(rid: number): Pending<T> | undefined {
    const pending = this.#pending.get(rid);
    if (pending === undefined) return undefined;
    this.#pending.delete(rid);
    clearTimeout(pending.timer);
    return pending;
  }
}
