// A worker thread serving one JavaScript function ("count": how many calls it ran) on a
// call ring that blocks when idle, for test/channel-prewake.test.ts. It records every
// block's slice and what its predictor heard; a predictor stub (workerData.stub) predicts
// a window a millisecond ahead while the test sets STUB_ON.
import { parentPort, workerData } from 'node:worker_threads';
import { ChannelServer } from '../../src/transport/channel-server.js';
import { threadWorkerSignals, type WorkerSignals } from '../../src/transport/ring-signals.js';
import { nowMs } from '../../src/transport/clock.js';
import type { WakeWindow } from '../../src/transport/wake-predictor.js';

import { FULL_SLICE_MS, REC } from './prewake-record.js';

const { ring, record, stub } = workerData as { ring: SharedArrayBuffer; record: SharedArrayBuffer; stub: boolean };
const rec = new Int32Array(record);
const base = threadWorkerSignals(0);
const signals: WorkerSignals = {
  ...base,
  waitWake(header, wake, sliceMs) {
    Atomics.add(rec, sliceMs >= FULL_SLICE_MS - 1 ? REC.fullSlices : REC.shortSlices, 1);
    Atomics.add(rec, REC.blocks, 1);
    base.waitWake(header, wake, sliceMs);
    while (Atomics.load(rec, REC.hold) === 1) Atomics.wait(rec, REC.hold, 1);
    Atomics.add(rec, REC.woken, 1);
  },
};
/** The stub's window, kept until a burst or a miss (as a predictor's is). */
let current: WakeWindow | null = null;
const predictor = stub
  ? {
      burst: (): void => { current = null; Atomics.add(rec, REC.bursts, 1); },
      miss: (): void => { current = null; Atomics.add(rec, REC.misses, 1); },
      next: (): null => null,
      period: Number.NaN,
      window: (): WakeWindow | null => {
        if (Atomics.load(rec, REC.stubOn) !== 1) return current = null;
        if (current === null) {
          const from = nowMs() + 1;
          current = { from, until: from + 2 };
        }
        return current;
      },
    }
  : undefined;
const count = (): number => Atomics.add(rec, REC.calls, 1) + 1;
const server = new ChannelServer(ring, [{ fn: count, signature: { args: [], result: 'number' } }], undefined, undefined, signals, {
  block: true, ...(predictor === undefined ? {} : { predictor }),
});
server.start();
// Messages must reach a worker blocked on (or watching) its ring: the host nudges after each.
parentPort!.on('message', (message: unknown) => parentPort!.postMessage(message));
parentPort!.postMessage('ready');
