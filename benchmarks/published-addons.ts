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
/** `random`: the result differs on every call (a salt), only its type is compared. */
const TRIES: Array<{ pkg: string; fn: string; args: () => unknown[]; calls?: number; random?: boolean }> = [
  { pkg: '@node-rs/xxhash', fn: 'xxh32', args: () => [Buffer.from('hello isoswap'), 0] },
  { pkg: '@node-rs/crc32', fn: 'crc32', args: () => [Buffer.from('hello isoswap')] },
  { pkg: '@node-rs/argon2', fn: 'hashSync', args: () => ['password', { memoryCost: 1024, timeCost: 1 }], calls: 200, random: true },
  { pkg: '@node-rs/bcrypt', fn: 'hashSync', args: () => ['password', { cost: 4 }], calls: 200, random: true },
  { pkg: 'bufferutil', fn: 'mask', args: () => [Buffer.from('hello'), Buffer.from([1, 2, 3, 4]), Buffer.alloc(5), 0, 5] },
  { pkg: 'utf-8-validate', fn: '(module.exports)', args: () => [Buffer.from('hello')] },
  { pkg: 'lightningcss', fn: 'transform', args: () => [{ filename: 'a.css', code: Buffer.from('.a { color: #ff0000 }'), minify: true }] },
  { pkg: '@parcel/watcher', fn: 'subscribe', args: () => [process.cwd(), () => {}], calls: 1 },
  { pkg: 'koffi', fn: 'sizeof', args: () => ['int'] },
  { pkg: 'sharp', fn: '(module.exports)', args: () => [], calls: 1 },
];

const p50 = (samples: number[]): number => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

async function time(call: () => unknown, calls: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await call();
    samples.push((performance.now() - start) * 1000);
  }
  return p50(samples);
}

const describe = (err: unknown): string => (err instanceof IsoswapError ? `${err.code}: ${err.message.slice(0, 120)}` : String(err).slice(0, 120));

for (const { pkg, fn, args, calls = CALLS, random = false } of TRIES) {
  const root = [join(modules, pkg), join(process.cwd(), 'node_modules', pkg)].find((dir) => existsSync(dir));
  if (root === undefined) {
    console.log(JSON.stringify({ pkg, skipped: 'not installed' }));
    continue;
  }
  const direct = createRequire(join(root, 'x.js'))(root) as Record<string, (...a: unknown[]) => unknown> & ((...a: unknown[]) => unknown);
  const directFn = fn === '(module.exports)' ? direct : direct[fn]!;
  let expected: unknown;
  let directUs: number | undefined;
  try {
    expected = directFn(...args());
    directUs = await time(() => directFn(...args()), calls);
  } catch {
    // the call needs what only a direct caller has (sharp's constructor chain): loads only
  }
  if (expected !== null && typeof expected === 'object' && 'unsubscribe' in expected) await (expected as { unsubscribe(): Promise<void> }).unsubscribe();
  for (const isolation of ['thread', 'process'] as Isolation[]) {
    const row: Record<string, unknown> = { pkg, fn, isolation, directUs: directUs === undefined ? null : Number(directUs.toFixed(2)) };
    try {
      const host = await createAddonHost({ module: root, isolation });
      row.pinned = host.current.pinned;
      row.exports = Object.keys(host.exports).length;
      try {
        // A function as module.exports is called as host.exports itself.
        const callable = host.exports as unknown as (...a: unknown[]) => Promise<unknown>;
        const call = (): Promise<unknown> => (fn === '(module.exports)' ? callable(...args()) : host.call(fn, ...args()));
        const got = await call();
        row.sameResult = random ? typeof got === typeof expected : isDeepStrictEqual(got, expected)
          || (ArrayBuffer.isView(got) && Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expected as Uint8Array)));
        row.hostUs = Number((await time(call, calls)).toFixed(2));
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
