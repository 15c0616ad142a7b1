// The workers the benchmarks measure isoswap against: a plain postMessage echo that makes
// the same koffi call, and a piscina task doing the same. Not a *.bench.ts: run-all skips it.
import koffi from 'koffi';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

type Tick = (x: number) => number;

/** Loads `do_tick` from the library named in workerData (once per worker). */
function loadTick(): Tick {
  const { library } = workerData as { library: string };
  return koffi.load(library).func('int32_t do_tick(int32_t)') as Tick;
}

let tick: Tick | undefined;

/** piscina's entry: one task = one native call. */
export default function piscinaTask(x: number): number {
  tick ??= loadTick();
  return tick(x);
}

// Started as a plain Worker (not by piscina): answer each message with do_tick(message).
if (!isMainThread && (workerData as { echo?: boolean } | undefined)?.echo === true) {
  const echoTick = loadTick();
  parentPort!.on('message', (x: number) => parentPort!.postMessage(echoTick(x)));
  parentPort!.postMessage('ready');
}
