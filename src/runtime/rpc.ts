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
 * A comlink Endpoint over a child process's IPC channel (fork with serialization
 * 'advanced', so that bigint, typed arrays and Maps cross as with postMessage).
 * @param sending told of each message sent, with whether it is written out yet (a large
 *  one is written as the other side reads)
 */
export function ipcEndpoint(channel: IpcChannel, sending?: (written: () => boolean) => void): Comlink.Endpoint {
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
    on: (_type: string, listener: (value: unknown) => void) => channel.on('message', listener),
    off: (_type: string, listener: (value: unknown) => void) => channel.off('message', listener),
  });
}
