// Every error code of the contract, raised through the public API: an IsoswapError with
// its stable code and a message that names the file, symbol or option at fault. Load
// errors are raised both by createIsolatedHost and by reload(), after which the current
// version must still be serving.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createIsolatedHost, IsoswapError, type IsolatedHostOptions, type IsoswapErrorCode } from '../src/index.js';
import { buildC, copiesIn, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)', extra: 'int32_t extra(void)' };
const GOOD = (k: number): string => `#include <stdint.h>
int32_t do_tick(int32_t x) { return x + ${k}; }
int32_t extra(void) { return ${k}; }
`;
const WITHOUT_EXTRA = '#include <stdint.h>\nint32_t do_tick(int32_t x) { return x + 100; }\n';
const REFUSING = `${GOOD(200)}int32_t isoswap_load(void *state, uint32_t bytes) { (void)state; (void)bytes; return 1; }\n`;

/** Asserts `promise` rejects with an IsoswapError of `code` whose message holds every `mentions`. */
async function rejectsWith(promise: Promise<unknown>, code: IsoswapErrorCode, mentions: string[]): Promise<IsoswapError> {
  const err = await promise.then(() => assert.fail(`expected ${code}, it resolved`), (e: unknown) => e);
  assert.ok(err instanceof IsoswapError, `expected an IsoswapError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  for (const m of mentions) assert.ok(err.message.includes(m), `the message "${err.message}" should name ${m}`);
  return err;
}

/** The length of the ELF program header table and the end of the last PT_LOAD segment. */
function elfExtent(elf: Buffer): { headersEnd: number; segmentsEnd: number } {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  let segmentsEnd = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 1) continue; // PT_LOAD
    segmentsEnd = Math.max(segmentsEnd, Number(elf.readBigUInt64LE(ph + 8) + elf.readBigUInt64LE(ph + 32)));
  }
  return { headersEnd: phoff + phnum * phentsize, segmentsEnd };
}

/** A way to break the library at `path`; `mentions` are what the error message must name. */
interface BrokenBuild {
  what: string;
  code: IsoswapErrorCode;
  /** Puts the broken build at `path`; `good` holds a complete library's bytes. */
  put(path: string, good: Buffer): Promise<void>;
  mentions(path: string): string[];
}

async function putBytes(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${path}.part`, bytes);
  await rename(`${path}.part`, path);
}

const BROKEN_BUILDS: BrokenBuild[] = [
  { what: 'a missing file', code: 'ERR_LIBRARY_NOT_FOUND', put: (p) => rm(p, { force: true }), mentions: (p) => [p] },
  { what: 'garbage bytes', code: 'ERR_NOT_A_LIBRARY', put: (p) => putBytes(p, randomBytes(8192)), mentions: (p) => [p] },
  { what: 'an empty file', code: 'ERR_NOT_A_LIBRARY', put: (p) => putBytes(p, new Uint8Array(0)), mentions: (p) => [p] },
  {
    what: 'a library truncated mid-file',
    code: 'ERR_NOT_A_LIBRARY',
    put: (p, good) => putBytes(p, good.subarray(0, Math.floor(good.length / 2))),
    mentions: (p) => [p, 'incomplete'],
  },
  {
    what: 'a half-written library whose headers promise segments past EOF',
    code: 'ERR_NOT_A_LIBRARY',
    async put(p, good) {
      // A linker caught mid-write: ELF and program headers whole, the segments not yet.
      // dlopen of exactly this kills the process with SIGBUS (see truncated.test.ts).
      const { headersEnd, segmentsEnd } = elfExtent(good);
      const written = 4096;
      assert.ok(headersEnd <= written && segmentsEnd > written, 'the fixture must promise bytes it does not have');
      await putBytes(p, good.subarray(0, written));
    },
    mentions: (p) => [p, 'incomplete'],
  },
  {
    what: 'a build without a declared symbol',
    code: 'ERR_SYMBOL_MISSING',
    put: async (p) => { await buildC(WITHOUT_EXTRA, p); },
    mentions: (p) => [p, 'extra'],
  },
  {
    what: 'a build whose isoswap_load returns 1',
    code: 'ERR_LOAD_HOOK',
    put: async (p) => { await buildC(REFUSING, p); },
    mentions: (p) => [p, 'isoswap_load'],
  },
];

/** A fresh dir with a good build at libgame.so; returns its path and bytes. */
async function goodBuild(): Promise<{ library: string; good: Buffer }> {
  const library = await buildC(GOOD(1), join(await makeTempDir(), 'libgame.so'));
  return { library, good: await readFile(library) };
}

describe('createIsolatedHost rejects a build it cannot serve', () => {
  for (const row of BROKEN_BUILDS) {
    test(`${row.code}: ${row.what}`, async () => {
      const { library, good } = await goodBuild();
      await row.put(library, good);
      await rejectsWith(createIsolatedHost({ library, functions: FUNCTIONS }), row.code, row.mentions(library));
    });
  }

  test('ERR_BAD_PROTOTYPE: a prototype koffi cannot parse', async () => {
    const { library } = await goodBuild();
    const functions = { do_tick: 'int32_t do_tick(banana)' };
    const err = await rejectsWith(createIsolatedHost({ library, functions }), 'ERR_BAD_PROTOTYPE', ['do_tick', 'banana']);
    assert.equal(err.details.function, 'do_tick');
  });

  const invalid: Array<[string, unknown, string]> = [
    ['threads: 0', { threads: 0 }, 'threads'],
    ['an empty library path', { library: '' }, 'library'],
    ['an unknown isolation', { isolation: 'fiber' }, 'isolation'],
    ['a prototype that is not a string', { functions: { do_tick: 42 } }, 'do_tick'],
    ['a state block over several processes', { isolation: 'process', threads: 2, state: { bytes: 64 } }, 'threads: 1'],
  ];
  for (const [what, patch, mentions] of invalid) {
    test(`ERR_INVALID_OPTIONS: ${what}`, async () => {
      const { library } = await goodBuild();
      const options = { library, functions: FUNCTIONS, ...(patch as object) } as IsolatedHostOptions;
      await rejectsWith(createIsolatedHost(options), 'ERR_INVALID_OPTIONS', [mentions]);
    });
  }
});

describe('reload() rejects a build it cannot serve, and the current version serves on', () => {
  for (const row of BROKEN_BUILDS) {
    test(`${row.code}: ${row.what}`, async (t) => {
      const { library, good } = await goodBuild();
      const host = await createIsolatedHost({ library, functions: FUNCTIONS });
      t.after(() => host.close());
      const serving = host.current;
      const errorEvents: unknown[] = [];
      host.on('error', (e) => errorEvents.push(e));

      await row.put(library, good);
      await rejectsWith(host.reload(), row.code, row.mentions(library));

      assert.equal(await host.call('do_tick', 1), 2, 'the old version still answers');
      assert.equal(await host.fns.extra(), 1);
      assert.deepEqual(host.current, serving);
      assert.deepEqual(host.history.map((v) => v.id), [serving.id]);
      assert.deepEqual((await copiesIn(dirname(serving.copy))).filter((n) => !n.endsWith('.lock')), [basename(serving.copy)], 'the refused build left no copy');
      assert.deepEqual(errorEvents, [], 'a reload() that rejects does not also emit error');
    });
  }
});

describe('errors raised while serving', () => {
  test('ERR_UNKNOWN_FUNCTION: a name not in `functions`', async (t) => {
    const { library } = await goodBuild();
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    t.after(() => host.close());
    await rejectsWith(host.call('no_such_fn' as 'do_tick'), 'ERR_UNKNOWN_FUNCTION', ['no_such_fn']);
    assert.equal((host.fns as Record<string, unknown>).no_such_fn, undefined);
  });

  test('ERR_BAD_ARGUMENTS: arguments that do not fit the prototype', async (t) => {
    const { library } = await goodBuild();
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    t.after(() => host.close());
    await rejectsWith(host.call('do_tick', 'seven'), 'ERR_BAD_ARGUMENTS', ['do_tick', library]);
    await rejectsWith(host.call('do_tick'), 'ERR_BAD_ARGUMENTS', ['do_tick', library]);
    // koffi would drop the extra argument and answer: the host counts them
    await rejectsWith(host.call('do_tick', 1, 2), 'ERR_BAD_ARGUMENTS', ['do_tick', library, 'takes 1 argument']);
    assert.throws(() => host.callSync('do_tick', 1, 2), (err: unknown) => err instanceof IsoswapError && err.code === 'ERR_BAD_ARGUMENTS');
    assert.equal(await host.call('do_tick', 7), 8, 'a bad call does not break the version');
  });

  test('ERR_NO_ROLLBACK: nothing served before', async (t) => {
    const { library } = await goodBuild();
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    t.after(() => host.close());
    await rejectsWith(host.rollback(), 'ERR_NO_ROLLBACK', [library]);
    assert.equal(await host.call('do_tick', 1), 2);
  });

  test('ERR_CALL_TIMEOUT: a call that takes longer than callTimeoutMs', async (t) => {
    const library = await buildC(`${GOOD(1)}#include <unistd.h>\nint32_t nap(int32_t ms) { usleep(ms * 1000); return ms; }\n`,
      join(await makeTempDir(), 'libnap.so'));
    const functions = { ...FUNCTIONS, nap: 'int32_t nap(int32_t)' };
    // 1 s: the replacement's first call (a cold worker on a loaded machine) must not time out too
    const host = await createIsolatedHost({ library, functions, callTimeoutMs: 1000 });
    t.after(() => host.close());
    host.on('error', () => {}); // the timeout (and the stuck thread) are also reported as events
    const replaced = new Promise((resolve) => host.once('swap', resolve)); // events.once would reject on 'error'
    const err = await rejectsWith(host.call('nap', 2500), 'ERR_CALL_TIMEOUT', ['nap', library]);
    assert.equal(err.details.function, 'nap');
    await replaced;
    assert.equal(await host.call('nap', 1), 1, 'the replacement version answers');
  });

  test('ERR_VERSION_CRASHED: the process serving the call dies (isolation: process)', async (t) => {
    const library = await buildC(`${GOOD(1)}#include <stdlib.h>\nint32_t die(void) { abort(); }\n`, join(await makeTempDir(), 'libdie.so'));
    const functions = { ...FUNCTIONS, die: 'int32_t die(void)' };
    const host = await createIsolatedHost({ library, functions, isolation: 'process' });
    t.after(() => host.close());
    host.on('error', () => {}); // the crash is also reported as an event
    await rejectsWith(host.call('die'), 'ERR_VERSION_CRASHED', [library]);
  });

  test('ERR_HOST_CLOSED: call, fns, reload and rollback after close', async () => {
    const { library } = await goodBuild();
    const host = await createIsolatedHost({ library, functions: FUNCTIONS });
    await host.close();
    await rejectsWith(host.call('do_tick', 1), 'ERR_HOST_CLOSED', ['do_tick']);
    await rejectsWith(host.fns.extra(), 'ERR_HOST_CLOSED', ['extra']);
    await rejectsWith(host.reload(), 'ERR_HOST_CLOSED', [library]);
    await rejectsWith(host.rollback(), 'ERR_HOST_CLOSED', [library]);
  });
});

describe('IsoswapError across boundaries', () => {
  test('an error thrown in the worker keeps its class, code, details and stack on the host', async (t) => {
    // The host checks arguments before they leave (argument-check.ts); the type names of
    // variadic arguments are koffi's to check, in the worker.
    const library = await buildC(`${GOOD(1)}int32_t count(int32_t n, ...) { return n; }\n`, join(await makeTempDir(), 'libgame.so'));
    const host = await createIsolatedHost({ library, functions: { ...FUNCTIONS, count: 'int32_t count(int32_t n, ...)' } });
    t.after(() => host.close());
    const err = await rejectsWith(host.call('count', 1, 'no_such_type', 1), 'ERR_BAD_ARGUMENTS', ['count']);
    assert.equal(err.name, 'IsoswapError');
    assert.deepEqual(err.details, { function: 'count', file: library });
    assert.match(err.stack ?? '', /LibraryService\.invoke/, 'the stack is the worker\'s (its bundled entry)');
  });

  test('a load error from the worker names the symbol in details', async () => {
    const { library } = await goodBuild();
    await buildC(WITHOUT_EXTRA, library);
    const err = await rejectsWith(createIsolatedHost({ library, functions: FUNCTIONS }), 'ERR_SYMBOL_MISSING', ['extra']);
    assert.equal(err.details.symbol, 'extra');
    assert.equal(err.details.file, library);
  });

  test('fromJSON(toJSON()) round-trips through JSON and structuredClone', () => {
    const original = new IsoswapError('ERR_SYMBOL_MISSING', 'symbol extra not found in /x/libgame.so', { symbol: 'extra', file: '/x/libgame.so' });
    for (const plain of [JSON.parse(JSON.stringify(original)), structuredClone(original.toJSON())]) {
      assert.ok(IsoswapError.isSerialized(plain));
      const back = IsoswapError.fromJSON(plain);
      assert.ok(back instanceof IsoswapError);
      assert.ok(back instanceof Error);
      assert.equal(back.code, original.code);
      assert.equal(back.message, original.message);
      assert.deepEqual(back.details, original.details);
      assert.equal(back.stack, original.stack);
    }
  });

  test('instanceof holds for an error built by another copy of the class (the brand)', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('isoswap.IsoswapError')]: true });
    assert.ok(foreign instanceof IsoswapError);
    assert.ok(!(new Error('plain') instanceof IsoswapError));
    assert.ok(!({ code: 'ERR_HOST_CLOSED' } instanceof IsoswapError));
  });
});
