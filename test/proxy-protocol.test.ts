// The function proxies (`host.fns`, `addon.exports`) answer the keys JavaScript asks for
// itself (`then`, `toJSON`, `toString`, symbols): `await`, `JSON.stringify`, a template
// string or util.inspect never start a native call whose rejection would end the program.
// What the linter flags here (awaiting a non-thenable, stringifying an object) is the point.
/* eslint-disable @typescript-eslint/await-thenable, @typescript-eslint/no-base-to-string, @typescript-eslint/restrict-template-expressions, @typescript-eslint/no-unnecessary-type-assertion */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inspect, promisify } from 'node:util';
import { createAddonHost, createIsolatedHost } from '../src/index.js';
import { buildAddon, NODE_API_INCLUDE } from './helpers/addon.js';
import { buildC, makeTempDir, removeTempDirs } from './helpers/native.js';

after(removeTempDirs);

/** Rejections nobody handled while `work` ran (collected until a later macrotask). */
async function unhandledDuring(work: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => { seen.push(reason); };
  process.on('unhandledRejection', listener);
  try {
    await work();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

test('host.fns with a declared function named `then`: await, JSON.stringify, a template string and inspect answer without a call; host.call reaches it', async () => {
  const library = await buildC('#include <stdint.h>\nint32_t then(int32_t x) { return x * 3; }\nint32_t do_tick(int32_t x) { return x + 1; }\n');
  const host = await createIsolatedHost({ library, functions: { then: 'int32_t then(int32_t)', do_tick: 'int32_t do_tick(int32_t)' } });
  try {
    const unhandled = await unhandledDuring(async () => {
      const fns: object = await (host.fns as object);
      assert.equal(fns, host.fns, 'await gives the object itself');
      assert.equal(JSON.stringify(host.fns), '{}');
      assert.equal(`${host.fns}`, '[object HostFunctions]');
      assert.equal(typeof inspect(host.fns), 'string', 'util.inspect shows the target: no trap, no call');
      assert.deepEqual(Object.keys(host.fns), ['do_tick']);
      assert.equal(await host.fns.do_tick(1), 2);
    });
    assert.deepEqual(unhandled, []);
    assert.equal(await host.call('then', 2), 6);
  } finally {
    await host.close();
  }
});

for (const isolation of ['thread', 'process'] as const) {
  test(`addon.exports under JSON.stringify, a template string, String(), await and inspect: no call, the host lives (${isolation})`, async () => {
    const addon = await createAddonHost({ addon: await buildAddon(1), isolation });
    try {
      const unhandled = await unhandledDuring(async () => {
        assert.equal(JSON.stringify(addon.exports), '{}');
        assert.equal(`${addon.exports}`, '[object AddonExports]');
        assert.equal(String(addon.exports), '[object AddonExports]');
        assert.equal(await addon.exports, addon.exports);
        assert.equal(typeof inspect(addon.exports), 'string');
        assert.equal(await (addon.exports as { tick(x: number): Promise<number> }).tick(1), 2);
      });
      assert.deepEqual(unhandled, []);
    } finally {
      await addon.close();
    }
  });

  test(`an addon export whose result is a symbol rejects ERR_NOT_CLONEABLE naming it (${isolation})`, async () => {
    const dir = await makeTempDir();
    const source = join(dir, 'symbol.c');
    const out = join(dir, 'symbol.node');
    await writeFile(source, `#include <node_api.h>
static napi_value make_symbol(napi_env env, napi_callback_info info) {
  napi_value symbol;
  napi_create_symbol(env, NULL, &symbol);
  return symbol;
}
NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "makeSymbol", NAPI_AUTO_LENGTH, make_symbol, NULL, &fn);
  napi_set_named_property(env, exports, "makeSymbol", fn);
  return exports;
}
`);
    await promisify(execFile)('gcc', ['-shared', '-fPIC', '-I', NODE_API_INCLUDE, '-o', out, source]);
    const addon = await createAddonHost({ addon: out, isolation });
    try {
      await assert.rejects(addon.call('makeSymbol'), (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, 'ERR_NOT_CLONEABLE');
        assert.match((err as Error).message, /makeSymbol/);
        return true;
      });
    } finally {
      await addon.close();
    }
  });
}
