import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import { IsoswapError } from './errors.js';

export { expose, wrap, releaseProxy, type Remote, type Endpoint } from 'comlink/dist/esm/comlink.mjs';
export { default as nodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs';

// comlink's own 'throw' handler sends name, message and stack only: wrap it so that an
// IsoswapError keeps its code and details across the boundary, in both directions.
const throwHandler = Comlink.transferHandlers.get('throw');
if (throwHandler !== undefined && !(throwHandler as { isoswap?: boolean }).isoswap) {
  Comlink.transferHandlers.set('throw', {
    isoswap: true,
    canHandle: throwHandler.canHandle,
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
