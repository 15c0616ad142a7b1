// The ring codec alone, in one thread (no scheduling, so it holds on a loaded machine):
// ns per call to write the arguments (host), read them (worker), write the result
// (worker) and read it (host), for an int32 call, a string argument + string result, and
// a 256-byte Buffer copied in and back; beside v8.serialize + deserialize of the same
// arguments and result, which a message path pays at least once each way.
import { deserialize, serialize } from 'node:v8';
import { channelViews, createChannelBuffer } from '../src/transport/ring-layout.js';
import { HostCodec, ringFunction, WorkerCodec, type RingFunction } from '../src/transport/ring-codec.js';
import type { FastSignature } from '../src/wire/protocol.js';
import { r3 } from './fixtures.js';
import { report } from './report.js';

const N = 200_000;
const views = channelViews(createChannelBuffer());
const host = new HostCodec(views, undefined);
const worker = new WorkerCodec(views, undefined);

/** ns per call of the whole codec round trip, best of 3. */
function codecNs(signature: FastSignature, args: unknown[], result: unknown): number {
  const fn: RingFunction = ringFunction('f', 0, signature);
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const slot = i & 2047;
      host.write(slot, fn, args, (i & 63) * 1024);
      worker.result(slot, signature.result, fn.plain ? result : (worker.args(slot, signature.args), result));
      host.read(slot, fn, args);
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t) / N);
  }
  return best;
}

/** ns per structured clone of the arguments there and the result back. */
function cloneNs(args: unknown[], result: unknown): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N / 4; i++) {
      deserialize(serialize(args));
      deserialize(serialize(result));
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t) / (N / 4));
  }
  return best;
}

const text = 'hello, ring';
const buffer = Buffer.alloc(256, 7);
const cases: Record<string, [FastSignature, unknown[], unknown]> = {
  int32: [{ args: ['number'], result: 'number' }, [42], 43],
  string: [{ args: ['string'], result: 'string' }, [text], text.toUpperCase()],
  buffer: [{ args: ['pointer-out', 'number'], result: 'number' }, [buffer, 256], 256],
};

const figures: Record<string, number> = {};
for (const [name, [signature, args, result]] of Object.entries(cases)) {
  figures[`${name}CodecNs`] = r3(codecNs(signature, args, result));
  figures[`${name}StructuredCloneNs`] = r3(cloneNs(args, result));
  figures[`${name}CloneVsCodec`] = r3(figures[`${name}StructuredCloneNs`]! / figures[`${name}CodecNs`]!);
}
report('ring-codec', { ...figures, stringVsInt32Codec: r3(figures['stringCodecNs']! / figures['int32CodecNs']!) });
