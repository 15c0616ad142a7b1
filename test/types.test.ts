// host.fns, call and callSync are typed from the prototype strings: wrong arguments do not
// compile (@ts-expect-error fails the build if they ever do), and the values the types
// promise are the values that come back. The type mapping itself: test/types/prototypes.ts.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { buildC, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

test('host.fns, call and callSync take and give the types of their prototypes', async () => {
  const library = await buildC(`#include <stdint.h>
#include <stdbool.h>
#include <string.h>
int32_t do_tick(int32_t x) { return x + 1; }
double c(double x) { return x * 2; }
const char *name(void) { return "typed"; }
bool ready(void) { return true; }
int char_count(const char *s) { return (int)strlen(s); }
int32_t avoid_wall(int32_t x) { return -x; }
`);
  const host = await createIsolatedHost({
    library,
    functions: {
      do_tick: 'int32_t do_tick(int32_t)', c: 'double c(double)', name: 'const char *name(void)',
      ready: 'bool ready(void)', char_count: 'int char_count(const char *s)', avoid_wall: 'int32_t avoid_wall(int32_t)',
    },
  });
  try {
    const n: number = await host.fns.do_tick(1);
    const d: number = await host.fns.c(1.5);
    const s: string | null = await host.call('name');
    const b: boolean = host.callSync('ready');
    const count: number = await host.fns.char_count('four');
    const wall: number = await host.call('avoid_wall', 3);
    assert.deepEqual([n, d, s, b, count, wall], [2, 3, 'typed', true, 4, -3]);

    // @ts-expect-error a string for a double
    await assert.rejects(host.fns.c('not a number'), { code: 'ERR_BAD_ARGUMENTS' });
    // @ts-expect-error a number is not a string
    const wrong: string = await host.fns.do_tick(1);
    assert.equal(wrong, 2);
    // @ts-expect-error too many arguments
    await assert.rejects(host.call('do_tick', 1, 2), { code: 'ERR_BAD_ARGUMENTS' });
    // A number for a const char * is refused at compile time (koffi would take it as an
    // address); not run here: the run-time check is the argument tests' business.
    // @ts-expect-error a number for a const char *
    const refusedAtCompileTime = (): unknown => host.fns.char_count(42);
    assert.equal(typeof refusedAtCompileTime, 'function');
    // @ts-expect-error an undeclared name does not compile (and rejects at run time)
    await assert.rejects(host.call('not_declared'), { code: 'ERR_UNKNOWN_FUNCTION' });
    // @ts-expect-error a typo of a declared name
    const typo = (): unknown => host.call('do_tikc', 1);
    // @ts-expect-error nor through callWith
    const typoWith = (): unknown => host.callWith({}, 'do_tikc', 1);
    // @ts-expect-error nor the blocking form
    const typoSync = (): unknown => host.callSync('do_tikc', 1);
    assert.deepEqual([typeof typo, typeof typoWith, typeof typoSync], ['function', 'function', 'function']);
    // callWith is typed as call is
    const viaOptions: number = await host.callWith({ timeoutMs: 1000 }, 'do_tick', 1);
    assert.equal(viaOptions, 2);
    // @ts-expect-error a string for an int32_t, after the options
    await assert.rejects(host.callWith({}, 'do_tick', 'one'), { code: 'ERR_BAD_ARGUMENTS' });
  } finally {
    await host.close();
  }
});
