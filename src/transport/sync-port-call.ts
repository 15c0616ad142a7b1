import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { IsoswapError } from '../errors.js';
import { Deadline } from './blocking-wait.js';
import { isMark, type SyncReply } from '../wire/protocol.js';


/**
 * `callSync` of a function that is not on the shared-memory channel (strings, structs...):
 * the request goes as a message on a port of its own, the worker answers on it and bumps
 * `replies[0]`, and the host, blocked in Atomics.wait, takes the answer with
 * receiveMessageOnPort. Comlink cannot do this: its replies need the host's event loop.
 */
export class SyncMessageCall {
  readonly #port: MessagePort;
  /** The end the worker serves; transfer it to the worker when it starts. */
  readonly workerPort: MessagePort;
  /** How many calls the worker has answered; give it to the worker with the port. */
  readonly replies = new Int32Array(new SharedArrayBuffer(4));
  /** How many answers the host took off the port: it sleeps while `replies[0]` equals it. */
  #taken = 0;

  /**
   * @param posted called after each message sent (a worker blocked on its ring must be nudged)
   */
  constructor(private readonly assertAlive: () => void, private readonly posted: () => void = () => {}) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.workerPort = port2;
  }

  /** Sends the call and blocks until the answer; throws what the worker threw, or
   *  ERR_CALL_TIMEOUT after `timeoutMs` (0: no limit). */
  call(name: string, args: unknown[], timeoutMs = 0): unknown {
    const deadline = new Deadline(name, timeoutMs);
    this.assertAlive();
    try {
      this.#port.postMessage({ name, args });
    } catch (err) {
      throw new IsoswapError('ERR_BAD_ARGUMENTS', `bad arguments for ${name}: ${(err as Error).message}`, { function: name }, { cause: err });
    }
    this.posted(); // a worker blocked on its ring sees no message until nudged
    let reply: SyncReply;
    do reply = this.#next(deadline); while (isMark(reply)); // a mark a drain gave up on
    if (reply.ok) return reply.value;
    throw IsoswapError.from(reply.error, 'ERR_BAD_ARGUMENTS', name);
  }

  /** Blocks until the worker answers mark `seq` (sent on the message path, behind the
   *  calls in flight); throws ERR_CALL_TIMEOUT at `deadline`. */
  awaitMark(seq: number, deadline: Deadline): void {
    this.assertAlive();
    for (;;) {
      const reply = this.#next(deadline);
      if (isMark(reply) && reply.value.isoswapMark === seq) return;
    }
  }

  /** The next answer on the port, blocking until there is one. */
  #next(deadline: Deadline): SyncReply {
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received !== undefined) {
        this.#taken++;
        return received.message as SyncReply;
      }
      // The worker posts, then counts: a count past what was taken means an answer is there.
      if (Atomics.wait(this.replies, 0, this.#taken | 0, deadline.sliceMs()) === 'timed-out') this.assertAlive();
    }
  }

  close(): void {
    this.#port.close();
  }
}
