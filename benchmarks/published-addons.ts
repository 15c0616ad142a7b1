// Tries published addons under createAddonHost({ module }) in both isolations: whether
// they load, whether a representative call answers as a direct call does, whether the build
// is pinned, and the per-call time (p50 of sequential calls) beside a direct call. Not part
// of `npm run bench` (it needs packages from the npm registry): install them into a folder
// and pass its node_modules, e.g.
//   npm install --prefix /tmp/try @node-rs/xxhash @node-rs/crc32 bufferutil utf-8-validate lightningcss
//   node dist/benchmarks/published-addons.js /tmp/try/node_modules
// A package absent from that folder is reported as skipped. One JSON line per package and isolation.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createAddonHost, IsoswapError, type Isolation } from '../src/index.js';

const CALLS = 2000;
const modules = process.argv[2];
if (modules === undefined) throw new Error('usage: published-addons.js <node_modules folder>');

/** A representative call of each package, and the export it goes through. */
const TRIES: Array<{ pkg: string; fn: string; args: () => unknown[] }> = [
  { pkg: '@node-rs/xxhash', fn: 'xxh32', args: () => [Buffer.from('hello isoswap'), 0] },
  { pkg: '@node-rs/crc32', fn: 'crc32', args: () => [Buffer.from('hello isoswap')] },
  { pkg: 'bufferutil', fn: 'mask', args: () => [Buffer.from('hello'), Buffer.from([1, 2, 3, 4]), Buffer.alloc(5), 0, 5] },
  { pkg: 'utf-8-validate', fn: '(module.exports)', args: () => [Buffer.from('hello')] },
  { pkg: 'lightningcss', fn: 'transform', args: () => [{ filename: 'a.css', code: Buffer.from('.a { color: #ff0000 }'), minify: true }] },
];

const p50 = (samples: number[]): number => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

async function time(call: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await call();
    samples.push((performance.now() - start) * 1000);
  }
  return p50(samples);
}

const describe = (err: unknown): string => (err instanceof IsoswapError ? `${err.code}: ${err.message.slice(0, 120)}` : String(err).slice(0, 120));

for (const { pkg, fn, args } of TRIES) {
  const root = join(modules, pkg);
  if (!existsSync(root)) {
    console.log(JSON.stringify({ pkg, skipped: 'not installed' }));
    continue;
  }
  const direct = createRequire(join(modules, 'x.js'))(pkg) as Record<string, (...a: unknown[]) => unknown> & ((...a: unknown[]) => unknown);
  const directFn = fn === '(module.exports)' ? direct : direct[fn]!;
  const expected = directFn(...args());
  const directUs = await time(() => directFn(...args()));
  for (const isolation of ['thread', 'process'] as Isolation[]) {
    const row: Record<string, unknown> = { pkg, fn, isolation, directUs: Number(directUs.toFixed(2)) };
    try {
      const host = await createAddonHost({ module: root, isolation });
      row.pinned = host.current.pinned;
      row.exports = Object.keys(host.exports).length;
      try {
        const call = (): Promise<unknown> => host.call(fn, ...args());
        const got = await call();
        row.sameResult = isDeepStrictEqual(got, expected) || (ArrayBuffer.isView(got) && Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expected as Uint8Array)));
        row.hostUs = Number((await time(call)).toFixed(2));
      } catch (err) {
        row.callError = describe(err);
      }
      await host.close();
    } catch (err) {
      row.loadError = describe(err);
    }
    console.log(JSON.stringify(row));
  }
}
