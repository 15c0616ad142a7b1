// Nothing of a killed host stays once the next host has started: its copies beside the
// library and in the temp dir are removed by a host that finds their lock free, and its
// state block was never a file. A copy whose owner still holds its lock is never removed,
// whatever its name says about pids. Every fault of the temp dir has its own code and
// leaves no partial file (read-only mounts and a full tmpfs in a private mount namespace).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createIsolatedHost } from '../src/index.js';
import { buildC, copiesIn, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FUNCTIONS = { do_tick: 'int32_t do_tick(int32_t)' };

/** The first line `child` prints, as JSON (bounded: the child's own failure ends it). */
async function firstLine<T>(child: ChildProcess): Promise<T> {
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`the child exited (${String(code)}) before it was ready`); });
  const [line] = await Promise.race([once(lines, 'line') as Promise<[string]>, exited]);
  lines.close();
  return JSON.parse(line) as T;
}

/** The files in /dev/shm named after `pid` (as a state block file used to be). */
const shmFilesOf = async (pid: number): Promise<string[]> => (await readdir('/dev/shm')).filter((n) => n.includes(`-${pid}-`));

test('a host SIGKILLed while serving (process isolation, state block) leaves nothing once the next host has started and closed', { timeout: 60_000 }, async () => {
  const dir = await makeTempDir();
  const tempDir = await makeTempDir();
  const library = await buildC(tickSource(1), join(dir, 'libgame.so'));
  const victim = spawn(process.execPath, [join(FIXTURES, 'serve-forever.js'), library, tempDir, 'process'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { copy } = await firstLine<{ copy: string }>(victim);
  assert.equal(dirname(copy), dir, 'the copy is beside the library');
  const fds = await Promise.all((await readdir(`/proc/${victim.pid}/fd`)).map((fd) => readlink(`/proc/${victim.pid}/fd/${fd}`).catch(() => '')));
  assert.ok(fds.some((target) => target.startsWith('/memfd:isoswap-state')), 'the state block is a memfd, no file');
  const maps = await readFile(`/proc/${victim.pid}/maps`, 'utf8');
  assert.match(maps, /\/memfd:isoswap-state/, 'the host maps the memfd');
  assert.doesNotMatch(maps, /\/dev\/shm\//, 'and nothing in /dev/shm');

  // While the victim lives, a host on the same library leaves its copies alone.
  const neighbour = await createIsolatedHost({ library, functions: FUNCTIONS });
  await neighbour.close();
  assert.ok((await copiesIn(dir)).includes(copy.slice(dir.length + 1)), 'a live host\'s copy is not swept');

  victim.kill('SIGKILL');
  await once(victim, 'exit');
  assert.ok((await copiesIn(dir)).length >= 2, 'SIGKILL left its copy and lock file (nobody could remove them)');

  const next = await createIsolatedHost({ library, functions: FUNCTIONS, tempDir });
  await next.close();
  assert.deepEqual(await copiesIn(dir), [], 'nothing beside the library');
  assert.deepEqual(await readdir(tempDir), [], 'nothing in the temp dir');
  assert.deepEqual(await shmFilesOf(victim.pid!), [], 'nothing in /dev/shm');
});

test('copies are swept by their lock, not by a pid: a held lock under a dead pid stays, a free one under a live pid goes', { timeout: 30_000 }, async () => {
  const dir = await makeTempDir();
  const library = await buildC(tickSource(1), join(dir, 'libgame.so'));
  // Named after pids that mean nothing here (another pid namespace would reuse them).
  const held = '.isoswap-999999-aaaaaa';
  const free = `.isoswap-${process.pid}-bbbbbb`;
  for (const owner of [held, free]) {
    await writeFile(join(dir, `${owner}.lock`), '');
    await writeFile(join(dir, `${owner}-v1-0123456789ab-libgame.so`), 'copy');
  }
  // flock(1) holds the lock for as long as it runs, as a live host in any namespace would;
  // --no-fork: one process holds it (a forked shell would hold it a moment after flock died).
  const holder = spawn('flock', ['--exclusive', '--no-fork', join(dir, `${held}.lock`), 'sh', '-c', 'echo locked; read line'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await once(createInterface({ input: holder.stdout }), 'line');

  const host = await createIsolatedHost({ library, functions: FUNCTIONS });
  await host.close();
  assert.deepEqual(await copiesIn(dir), [`${held}-v1-0123456789ab-libgame.so`, `${held}.lock`], 'the held lock\'s copy stays; the free one is gone');

  holder.kill('SIGKILL');
  await once(holder, 'exit');
  const again = await createIsolatedHost({ library, functions: FUNCTIONS });
  await again.close();
  assert.deepEqual(await copiesIn(dir), [], 'once its owner is gone, it goes too');
});

test('the temp dir read-only, missing, a file or full: each its own code, naming path and errno, no partial file', { timeout: 60_000 }, async (t) => {
  const root = await makeTempDir();
  const dir = join(root, 'lib');
  const ro = join(root, 'ro');
  const small = join(root, 'small');
  const good = join(root, 'good');
  const file = join(root, 'a-file');
  await Promise.all([dir, ro, small, good].map((d) => mkdir(d)));
  await writeFile(file, '');
  // 64 KiB of initialised data: larger than the 32 KiB tmpfs, so its copy fails mid-write.
  const library = await buildC(tickSource(1, 'const char big[65536] = { 1 };\n'), join(dir, 'libgame.so'));
  const script = [
    'set -e',
    `mount --bind ${dir} ${dir}`, `mount -o remount,ro,bind ${dir}`, // the library's directory takes no copy
    `mount --bind ${ro} ${ro}`, `mount -o remount,ro,bind ${ro}`,
    `mount -t tmpfs -o size=32k isoswap-full ${small}`,
    `exec "${process.execPath}" ${join(FIXTURES, 'copy-faults.js')} ${library} readonly=${ro} missing=${join(root, 'missing')} file=${file} full=${small} good=${good}`,
  ].join('\n');
  const child = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0 && /unshare|mount/.test(child.stderr) && !child.stdout) {
    t.skip(`no private mount namespace here: ${child.stderr.trim()}`);
    return;
  }
  assert.equal(child.status, 0, child.stderr);
  type Case = { code?: string; errno?: string; message?: string; left: string[] | null; served?: { copy: string; result: number } };
  const cases = JSON.parse(child.stdout) as Record<string, Case>;
  const expect = (name: string, code: string, errno: string, path: string): void => {
    const c = cases[name]!;
    assert.equal(c.code, code, `${name}: ${c.message}`);
    assert.equal(c.errno, errno, `${name}: ${c.message}`);
    assert.ok(c.message!.includes(path) && c.message!.includes(errno), `${name}: the message names ${path} and ${errno}: ${c.message}`);
    assert.ok(c.message!.includes(dir), `${name}: and why not beside the library: ${c.message}`);
  };
  expect('readonly', 'ERR_TEMP_DIR', 'EROFS', ro);
  expect('missing', 'ERR_TEMP_DIR', 'ENOENT', join(root, 'missing'));
  expect('file', 'ERR_TEMP_DIR', 'ENOTDIR', file);
  expect('full', 'ERR_COPY_FAILED', 'ENOSPC', small);
  assert.deepEqual(cases.readonly!.left, []);
  assert.deepEqual(cases.full!.left, [], 'the partial copy (and the lock file) are removed');
  assert.equal(cases.missing!.left, null, 'the missing temp dir was not made');
  assert.equal(dirname(cases.good!.served!.copy), good, 'with the library\'s directory read-only, the copy is in the temp dir');
  assert.equal(cases.good!.served!.result, 2);
  assert.deepEqual(cases.good!.left, [], 'and gone after close');
  assert.deepEqual(await copiesIn(dir), [], 'nothing was written beside the library');
});

test('a state block whose memory cannot be reserved is ERR_STATE_ALLOC at create, not a SIGBUS at the first write', { timeout: 30_000 }, async () => {
  const library = await buildC(tickSource(1));
  // RLIMIT_FSIZE bounds how far posix_fallocate may grow the memfd, as a full tmpfs would
  // (EFBIG instead of ENOSPC; its SIGXFSZ ignored so that the call returns the error).
  const script = `import { createIsolatedHost } from ${JSON.stringify(join(dirname(FIXTURES), '..', 'src', 'index.js'))};
const host = await createIsolatedHost({ library: ${JSON.stringify(library)}, functions: {}, isolation: 'process', state: { bytes: 1 << 20 } })
  .catch((err) => { console.log(JSON.stringify({ code: err.code, errno: err.details.errno, message: err.message })); return null; });
if (host !== null) { host.state.fill(1); console.log(JSON.stringify({ served: true })); await host.close(); }`;
  const child = spawnSync('sh', ['-c', `trap '' XFSZ; exec prlimit --fsize=262144 "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(child.signal, null, child.stderr);
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout) as { code?: string; errno?: string; message?: string };
  assert.equal(result.code, 'ERR_STATE_ALLOC', child.stdout);
  assert.equal(result.errno, 'EFBIG');
  assert.match(result.message!, /1048576 bytes/);
});
