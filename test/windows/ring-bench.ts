// A small benchmark for docs/performance.md, run by hand under Windows Node in a tree the
// lane kept (ISOSWAP_WINDOWS_KEEP=1): `wine node.exe dist/test/windows/ring-bench.js`.
// Process isolation, one child: calls back to back on the named ring (call and callSync)
// against the same calls over IPC, microseconds a call.
import { ChildProcessHandle } from '../../src/runtime/process/child-process-handle.js';
import { fixturePath } from './dll-fixtures.js';

const ROUNDS = 3;

async function perCall(count: number, one: (i: number) => unknown): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await one(i);
  return ((performance.now() - started) * 1000) / count;
}

async function main(): Promise<void> {
  const library = fixturePath('tick1.dll');
  const child = new ChildProcessHandle();
  try {
    const functions = { do_tick: 'int32_t do_tick(int32_t)' };
    const report = await child.request((r) => r.load({ library, copy: library, functions, processRing: true }));
    const channel = child.channel!;
    channel.open(report, undefined);
    const rows: Record<string, number[]> = { 'ring call': [], 'ring callSync': [], 'IPC call': [] };
    for (let round = 0; round < ROUNDS; round++) {
      rows['ring call']!.push(await perCall(5000, (i) => channel.call('do_tick', [i])));
      rows['ring callSync']!.push(await perCall(5000, (i) => channel.callSync('do_tick', [i])));
      rows['IPC call']!.push(await perCall(500, (i) => child.request((r) => r.call('do_tick', [i]))));
    }
    for (const [name, us] of Object.entries(rows)) {
      console.log(`${name}: ${us.map((u) => u.toFixed(1)).join(' / ')} µs a call (median ${us.sort((a, b) => a - b)[1]!.toFixed(1)})`);
    }
  } finally {
    await child.kill();
  }
}

await main();
