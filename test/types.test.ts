// The result types of host.fns / call / callSync come from the prototype strings. These
// checks fail at compile time (npm test builds first) if the mapping is wrong.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createIsolatedHost, type PrototypeResult } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const resultTypes: [
  Equal<PrototypeResult<'int32_t do_tick(int32_t)'>, number>,
  Equal<PrototypeResult<'double mean(double, double)'>, number>,
  Equal<PrototypeResult<'void reset(void)'>, undefined>,
  Equal<PrototypeResult<'bool ready(void)'>, boolean>,
  Equal<PrototypeResult<'int64_t big(void)'>, number | bigint>,
  Equal<PrototypeResult<'const char *name(void)'>, string | null>,
  Equal<PrototypeResult<'void *handle(void)'>, unknown>,
  Equal<PrototypeResult<string>, any>,
] = [true, true, true, true, true, true, true, true];

test('host.fns, call and callSync are typed from the prototypes', async () => {
  assert.ok(resultTypes.every(Boolean));
  const library = await buildC(`#include <stdint.h>
#include <stdbool.h>
int32_t do_tick(int32_t x) { return x + 1; }
const char *name(void) { return "typed"; }
bool ready(void) { return true; }
`);
  const host = await createIsolatedHost({
    library,
    functions: { do_tick: 'int32_t do_tick(int32_t)', name: 'const char *name(void)', ready: 'bool ready(void)' },
  });
  try {
    const n: number = await host.fns.do_tick(1);
    const s: string | null = await host.call('name');
    const b: boolean = host.callSync('ready');
    // @ts-expect-error a number is not a string
    const wrong: string = await host.fns.do_tick(1);
    assert.deepEqual([n, s, b, wrong], [2, 'typed', true, 2]);
    // any other name still compiles (and rejects at run time)
    await assert.rejects(host.call('not_declared'), { code: 'ERR_UNKNOWN_FUNCTION' });
  } finally {
    await host.close();
  }
});
