import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeIpcAdapter from 'comlink/dist/esm/node-adapter.mjs';
import { IsoswapError } from '../errors.js';

export { expose, wrap, releaseProxy, type Remote, type Endpoint } from 'comlink/dist/esm/comlink.mjs';
export { default as nodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs';

// comlink's own 'throw' handler sends name, message and stack only: wrap it so that an
// IsoswapError keeps its code and details across the boundary, in both directions.
const throwHandler = Comlink.transferHandlers.get('throw');
if (throwHandler !== undefined && !(throwHandler as { isoswap?: boolean }).isoswap) {
  Comlink.transferHandlers.set('throw', {
    isoswap: true,
    canHandle: (value: unknown): value is unknown => throwHandler.canHandle(value),
    serialize(thrown: unknown) {
      const { value } = thrown as { value: unknown };
      if (value instanceof IsoswapError) return [{ isoswapError: value.toJSON() }, []];
      return throwHandler.serialize(thrown);
    },
    deserialize(serialized: unknown) {
      const err = (serialized as { isoswapError?: unknown }).isoswapError;
      if (IsoswapError.isSerialized(err)) throw IsoswapError.fromJSON(err);
      return throwHandler.deserialize(serialized);
    },
  } as Comlink.TransferHandler<unknown, unknown>);
}

/**
 * An endpoint that forgets the worker or child behind it once `release()` ran (it exited).
 * comlink holds the endpoint of every proxy it made (one per property read: `r.load`,
 * `r.call`) in a FinalizationRegistry until a cleanup task after a full GC; holding the
 * Worker, whose listeners hold the runtime handle, that kept each retired runtime (its
 * channel, ports, streams) alive two full GCs longer, hundreds of them over a day of swaps.
 */
export function releasableEndpoint(endpoint: Comlink.Endpoint): { endpoint: Comlink.Endpoint; release: () => void } {
  let target: Comlink.Endpoint | null = endpoint;
  return {
    endpoint: {
      postMessage: (message, transfer) => target?.postMessage(message, transfer),
      addEventListener: (type, listener, options) => target?.addEventListener(type, listener, options),
      removeEventListener: (type, listener, options) => target?.removeEventListener(type, listener, options),
    },
    release: () => { target = null; },
  };
}

/**
 * The endpoint, calling `posted` after each message it sends: a worker blocked on its ring
 * runs no event loop until the host nudges it (CallChannel.nudge).
 */
export function afterPost(endpoint: Comlink.Endpoint, posted: () => void): Comlink.Endpoint {
  return {
    postMessage: (message, transfer) => { endpoint.postMessage(message, transfer); posted(); },
    addEventListener: (type, listener, options) => endpoint.addEventListener(type, listener, options),
    removeEventListener: (type, listener, options) => endpoint.removeEventListener(type, listener, options),
  };
}

/** Either end of a Node IPC channel: the ChildProcess in the host, `process` in the child. */
export interface IpcChannel {
  readonly connected: boolean;
  send?: ((message: any, sendHandle?: undefined, options?: undefined, callback?: (error: Error | null) => void) => boolean) | undefined;
  on(event: 'message', listener: (message: any) => void): unknown;
  off(event: 'message', listener: (message: any) => void): unknown;
}

/**
 * The host's end of a child process's IPC channel, as a comlink Endpoint (fork with
 * serialization 'advanced', so that bigint, typed arrays and Maps cross as with postMessage).
 * Its messages are answers, settled as they come.
 * @param sending told of each message sent, with whether it is written out yet (a large
 *  one is written as the other side reads)
 */
export function ipcEndpoint(channel: IpcChannel, sending?: (written: () => boolean) => void): Comlink.Endpoint {
  return ipcAdapter(channel, sending, (listener) => listener);
}

/**
 * The child's end (`process`): each request runs only once the answer to the one before it
 * is sent (in the pipe, unless it is larger than the pipe holds: the rest follows as the
 * host reads). Node emits every message of one pipe read (a process.nextTick each) before
 * any microtask runs, and comlink sends an answer from a microtask: the next request of
 * that read would run first, and if it killed the process, the answer would die with it.
 */
export function childIpcEndpoint(channel: IpcChannel): Comlink.Endpoint {
  return ipcAdapter(channel, undefined, inTurns);
}

type Listener = (value: unknown) => void;

function ipcAdapter(channel: IpcChannel, sending: ((written: () => boolean) => void) | undefined,
  deliver: (listener: Listener) => Listener): Comlink.Endpoint {
  const delivering = new Map<Listener, Listener>();
  return nodeIpcAdapter({
    // IPC cannot transfer: comlink's transfer list is dropped (isoswap never transfers).
    // A closed channel drops the message: the runtime rejects what is pending when its
    // process exits, while send() would throw or emit 'error' instead.
    postMessage: (message: unknown) => {
      if (!channel.connected) return;
      if (sending === undefined) {
        channel.send?.(message);
        return;
      }
      let written = false;
      channel.send?.(message, undefined, undefined, () => { written = true; });
      sending(() => written);
    },
    on: (_type: string, listener: Listener) => {
      const wrapped = deliver(listener);
      delivering.set(listener, wrapped);
      channel.on('message', wrapped);
    },
    off: (_type: string, listener: Listener) => {
      const wrapped = delivering.get(listener);
      if (wrapped === undefined) return;
      delivering.delete(listener);
      channel.off('message', wrapped);
    },
  });
}

/**
 * `listener`, called with the first message of a pipe read at once (a lone request waits
 * for nothing) and with each later one in a macrotask of its own, in order: by then the
 * microtasks of the one before, which send its answer, have run.
 */
function inTurns(listener: Listener): Listener {
  /** Messages waiting for their macrotask. */
  let waiting = 0;
  /** A message was delivered in this run of process.nextTick callbacks. */
  let inTick = false;
  const next = (message: unknown): void => {
    waiting--;
    listener(message);
  };
  return (message) => {
    if (inTick || waiting > 0) {
      waiting++;
      setImmediate(next, message);
      return;
    }
    inTick = true;
    queueMicrotask(() => { inTick = false; });
    listener(message);
  };
}
