// Issue 15, deliverable 6: any options and any arguments give a host (or a result) or an
// IsoswapError; the process stays alive, and nothing is left after close().
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createIsolatedHost, IsoswapError, type IsolatedHost, type IsolatedHostOptions } from '../src/index.js';
import { buildC, copiesIn, mappedFiles, removeTempDirs } from './helpers/native.js';
import { ARGS_FUNCTIONS, ARGS_SOURCE } from './helpers/harden-fixtures.js';

let library = '';
before(async () => { library = await buildC(ARGS_SOURCE); });
after(removeTempDirs);

const shmFiles = async (): Promise<string[]> =>
  existsSync('/dev/shm') ? (await readdir('/dev/shm')).filter((f) => f.startsWith(`isoswap-${process.pid}-`)) : [];

/** Values of every kind, the edges of each option's range among them. */
const anyValue = fc.oneof(
  fc.constantFrom(0, 1, 2, 65, -1, 0.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1e9, Number.NaN, Infinity, -0),
  fc.constantFrom(null, undefined, true, false, '', 'yes', 'thread', 'process', [], {}, { bytes: 16 }, { bytes: 2 ** 32 }, 1n),
  fc.integer(), fc.string(), fc.anything(),
);
const optionName = fc.constantFrom('watch', 'isolation', 'threads', 'state', 'callTimeoutMs', 'loadTimeoutMs', 'drainTimeoutMs',
  'hookTimeoutMs', 'keepBuilds', 'tempDir', 'functions', 'library', 'thread', 'timeout', '__proto__', 'constructor');
/** A sane value of each option, so that valid hosts come up too (and are cheap). */
const sane: Record<string, fc.Arbitrary<unknown>> = {
  isolation: fc.constantFrom('thread', 'process'),
  threads: fc.integer({ min: 1, max: 2 }),
  state: fc.integer({ min: 1, max: 4096 }).map((bytes) => ({ bytes })),
  callTimeoutMs: fc.constantFrom(0, 60_000),
  hookTimeoutMs: fc.constantFrom(0, 5000),
  keepBuilds: fc.integer({ min: 1, max: 3 }),
};
const options = fc.dictionary(optionName, fc.oneof(anyValue, fc.constantFrom(...Object.keys(sane)).chain((k) => sane[k]!)), { maxKeys: 3 });

test('any options: a host or ERR_INVALID_OPTIONS (or another IsoswapError), and nothing left after close()', async () => {
  const shmBefore = await shmFiles();
  await fc.assert(fc.asyncProperty(options, async (extra) => {
    const opts = { library, functions: ARGS_FUNCTIONS, ...extra } as Record<string, unknown>;
    // A sane library and functions most of the time: the property is about the rest.
    if (!('library' in extra)) opts['library'] = library;
    // Whether a directory exists is the file system's answer, not an option check's.
    if (typeof opts['tempDir'] === 'string') opts['tempDir'] = tmpdir();
    let host: IsolatedHost | null = null;
    try {
      host = await createIsolatedHost(opts as unknown as IsolatedHostOptions);
    } catch (err) {
      assert.ok(err instanceof IsoswapError, `untyped: ${String(err)} for ${fc.stringify(extra)}`);
      return;
    }
    const copies = dirname(host.current.copy);
    assert.equal(await host.call('add', 1, 2), 3);
    await host.close();
    assert.deepEqual(existsSync(copies) ? await copiesIn(copies) : [], [], 'no copy (nor lock file) is left');
    assert.equal(await mappedFiles(copies), 0, 'no copy stays mapped');
  }), { numRuns: 25, seed: Number(process.env['FC_SEED'] ?? 15) });
  assert.deepEqual(await shmFiles(), shmBefore, 'no state file is left in /dev/shm');
});

for (const isolation of ['thread', 'process'] as const) {
  test(`any arguments to any declared function: a result or an IsoswapError, on call and callSync (${isolation})`, async (t) => {
    // untyped: the names drawn include undeclared ones, which the typed host refuses to compile
    const host: IsolatedHost = await createIsolatedHost({ library, functions: ARGS_FUNCTIONS, isolation });
    t.after(() => host.close());
    const arg = fc.oneof(
      fc.integer(), fc.double(), fc.bigInt(), fc.boolean(), fc.string(), fc.constant(null), fc.constant(undefined),
      fc.uint8Array({ maxLength: 4 }).map((a) => new Uint8Array([...a, 0])), fc.anything(),
      fc.constantFrom(2 ** 40, 300, -1, Number.NaN, 2 ** 53, 2n ** 63n, 0x1000),
    );
    const call = fc.record({
      name: fc.constantFrom(...Object.keys(ARGS_FUNCTIONS), 'nope', '__proto__'),
      args: fc.array(arg, { maxLength: 3 }),
      sync: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(call, async ({ name, args, sync }) => {
      try {
        if (sync) host.callSync(name, ...args);
        else await host.call(name, ...args);
      } catch (err) {
        assert.ok(err instanceof IsoswapError, `untyped: ${String(err)} for ${name}(${fc.stringify(args)})`);
        assert.ok(['ERR_BAD_ARGUMENTS', 'ERR_UNKNOWN_FUNCTION'].includes(err.code), `${err.code}: ${err.message}`);
      }
    }), { numRuns: 150, seed: Number(process.env['FC_SEED'] ?? 15) });
    assert.equal(host.current.id, 1, 'no call crashed the version');
    assert.equal(await host.call('add', 1, 2), 3);
  });
}
