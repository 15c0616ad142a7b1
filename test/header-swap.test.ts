// With `header`, each new build is declared from the header as it is at the swap: a
// signature that changed refuses the swap (the old build serves on) unless
// allowSignatureChange, when calls use the new prototypes as soon as the new build serves.
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { createIsolatedHost, type IsolatedHost, type IsoswapError, type SwapEvent } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

const INT_HEADER = '#include <stdint.h>\nint32_t scale(int32_t x);\n';
const INT_BUILD = '#include <stdint.h>\nint32_t scale(int32_t x) { return x * 2; }\n';
const DOUBLE_HEADER = '/* scale now takes and returns a double */\ndouble scale(double x);\n';
const DOUBLE_BUILD = 'double scale(double x) { return x * 2; }\n';

/** A watched host over `libgame.so` built from INT_BUILD, declared by `game.h`. */
async function watchedHost(t: TestContext, allowSignatureChange: boolean) {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  const header = join(dir, 'game.h');
  await writeFile(header, INT_HEADER);
  await buildC(INT_BUILD, library);
  const host = await createIsolatedHost({ library, header, watch: true, allowSignatureChange });
  t.after(() => host.close());
  /** Saves a new header, then the build renamed into place (as an editor, then a linker). */
  const save = async (headerText: string, source: string): Promise<void> => {
    await writeFile(`${header}.new`, headerText);
    await rename(`${header}.new`, header);
    await buildC(source, library);
  };
  return { host, save };
}

/** The next `swap` or `error` event, whichever comes first; fails after 15 s. */
function nextOutcome(host: IsolatedHost): Promise<{ swap?: SwapEvent; error?: IsoswapError }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { done(); reject(new Error('neither swap nor error within 15 s')); }, 15_000);
    const onSwap = (swap: SwapEvent): void => { done(); resolve({ swap }); };
    const onError = (error: IsoswapError): void => { done(); resolve({ error }); };
    const done = (): void => { clearTimeout(timer); host.off('swap', onSwap).off('error', onError); };
    host.on('swap', onSwap).on('error', onError);
  });
}

test('a changed signature under watch is refused: the old build serves on; a build that only adds a function is served', async (t) => {
  const { host, save } = await watchedHost(t, false);
  const first = host.current;
  let outcome = nextOutcome(host);
  await save(DOUBLE_HEADER, DOUBLE_BUILD);
  const { error } = await outcome;
  assert.equal(error?.code, 'ERR_SIGNATURE_CHANGED');
  assert.match(error.message, /game\.h changes scale: 'int32_t scale\(int32_t\)' → 'double scale\(double\)'/);
  assert.deepEqual(error.details['changed'], [{ function: 'scale', old: 'int32_t scale(int32_t)', new: 'double scale(double)' }]);
  assert.equal(host.current.id, first.id);
  assert.equal(await host.call('scale', 21), 42);
  await assert.rejects(host.reload(), { code: 'ERR_SIGNATURE_CHANGED' }); // reload() reads the header too

  outcome = nextOutcome(host);
  await save(`${INT_HEADER}int32_t added(void);\n`, `${INT_BUILD}int32_t added(void) { return 7; }\n`);
  const { swap } = await outcome;
  assert.equal(swap?.reason, 'watch');
  assert.deepEqual(Object.keys(host.fns), ['scale', 'added']);
  assert.equal(await host.fns.added!(), 7);
  assert.equal(await host.call('scale', 21), 42);
});

test('allowSignatureChange: the new prototype is used once the new build serves; a rollback serves the old one again', async (t) => {
  const { host, save } = await watchedHost(t, true);
  await assert.rejects(host.call('scale', 1.25), { code: 'ERR_BAD_ARGUMENTS' }); // int32_t
  const outcome = nextOutcome(host);
  await save(DOUBLE_HEADER, DOUBLE_BUILD);
  const { swap, error } = await outcome;
  assert.equal(error, undefined);
  assert.equal(swap?.reason, 'watch');
  assert.equal(await host.call('scale', 1.25), 2.5);
  assert.equal(host.callSync('scale', 0.75), 1.5);
  await host.rollback(); // the old build, declared as it was served
  await assert.rejects(host.call('scale', 1.25), { code: 'ERR_BAD_ARGUMENTS' });
  assert.equal(await host.call('scale', 21), 42);
});
