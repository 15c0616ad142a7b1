// A package outside the repo imports `isoswap` by name, as a user would: this proves the
// package.json `exports` (code and types) and the built dist/ work together.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

const CONSUMER_JS = `import { copyFile, rename } from 'node:fs/promises';
import { createIsolatedHost, IsoswapError } from 'isoswap';

const [library, next] = process.argv.slice(2);
const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' } });
const out = { first: await host.fns.do_tick(1), copyIsPrivate: host.current.copy !== library };
await copyFile(next, library + '.part');
await rename(library + '.part', library);
out.reloaded = (await host.reload()).id;
out.second = await host.call('do_tick', 1);
try {
  await host.call('nope');
} catch (err) {
  out.error = { isIsoswapError: err instanceof IsoswapError, code: err.code };
}
await host.close();
out.deepImport = await import('isoswap/dist/src/host/isolated-host.js').then(() => 'allowed', (err) => err.code);
console.log(JSON.stringify(out));
`;

const CONSUMER_TS = `import { createIsolatedHost, IsolatedHost, IsoswapError, type VersionInfo } from 'isoswap';

export async function main(library: string): Promise<string> {
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' }, threads: 2 });
  host.on('swap', ({ from, to, ms }) => console.log(from.id, to.id, ms.toFixed(1)));
  host.on('retired', (v: VersionInfo) => console.log(v.copy));
  const result: number = await host.fns.do_tick(1);
  const current: VersionInfo = host.current;
  try {
    await host.reload();
  } catch (err) {
    if (err instanceof IsoswapError && err.code === 'ERR_SYMBOL_MISSING') console.log(err.details);
  }
  await host.close();
  // @ts-expect-error \`library\` is required: the types are real, not any
  await createIsolatedHost({ functions: {} });
  // @ts-expect-error hosts are made by createIsolatedHost
  new IsolatedHost();
  // @ts-expect-error an undeclared name
  await host.call('do_tikc', 1);
  // @ts-expect-error reload() takes no reason
  await host.reload('rollback');
  const n: number = await host.callWith({ signal: AbortSignal.timeout(100), timeoutMs: 50 }, 'do_tick', 1);
  await host.close({ force: true });
  {
    await using scoped = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' }, crashPolicy: { max: 2 } });
    console.log(await scoped.fns.do_tick(n));
  }
  try {
    await host.call('do_tick', 1);
  } catch (err) {
    if (err instanceof IsoswapError && err.code === 'ERR_CALL_ABORTED') {
      const started: boolean = err.details.started;
      console.log(started);
    }
  }
  return \`\${result} \${current.sha256} \${current.loadedAt.toISOString()}\`;
}
`;

describe('a package outside the repo', () => {
  let consumer: string;
  before(async () => {
    consumer = await makeTempDir('isoswap-consumer-');
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { isoswap: `file:${REPO}` } }));
    await mkdir(join(consumer, 'node_modules'));
    await symlink(REPO, join(consumer, 'node_modules', 'isoswap'), 'dir'); // what `npm install` of a file: dependency makes
  });
  after(removeTempDirs);

  test('imports createIsolatedHost and IsoswapError from "isoswap" and serves, reloads, closes', async () => {
    const dir = await makeTempDir();
    const library = await buildC(tickSource(1), join(dir, 'libgame.so'));
    const next = await buildC(tickSource(2), join(dir, 'libnext.so'));
    await writeFile(join(consumer, 'main.js'), CONSUMER_JS);
    const run = spawnSync(process.execPath, ['main.js', library, next], { cwd: consumer, encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.signal, null, run.stderr);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim()), {
      first: 2,
      copyIsPrivate: true,
      reloaded: 2,
      second: 3,
      error: { isIsoswapError: true, code: 'ERR_UNKNOWN_FUNCTION' },
      deepImport: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  test('type-checks against the published types', { timeout: 50_000 }, async () => {
    await writeFile(join(consumer, 'main.ts'), CONSUMER_TS);
    await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true,
        // a real consumer installs @types/node itself; this one borrows the repo's
        typeRoots: [join(REPO, 'node_modules', '@types')], types: ['node'],
      },
      files: ['main.ts'],
    }));
    const tsc = createRequire(join(REPO, 'package.json')).resolve('typescript/bin/tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      assert.fail(`the consumer does not type-check:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
    }
  });
});
