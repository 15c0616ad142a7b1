// Thread isolation: a retired version whose signal handler is still installed keeps its
// copy mapped (ERR_SIGNAL_HANDLER is reported): the next signal runs its code instead of
// jumping into unmapped memory and killing the program.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createIsolatedHost, type IsoswapError } from '../src/index.js';
import { buildC, makeTempDir, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

test('a retired library whose SIGUSR2 handler is still installed: its copy stays mapped, ERR_SIGNAL_HANDLER names the signal, the signal runs the handler and the host lives', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
  const dir = await makeTempDir();
  const library = join(dir, 'libgame.so');
  const hit = join(dir, 'hit');
  await buildC(tickSource(1, `#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
static void on_usr2(int signal) { (void)signal; int fd = open("${hit}", O_CREAT | O_WRONLY, 0600); if (fd >= 0) close(fd); }
int32_t install(void) { struct sigaction action = { 0 }; action.sa_handler = on_usr2; return sigaction(SIGUSR2, &action, 0); }`), library);
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)', install: 'int32_t install(void)' } });
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  try {
    assert.equal(await host.call('install'), 0);
    await buildC(tickSource(2, 'int32_t install(void) { return 0; }'), library);
    const retired = new Promise<void>((resolve) => host.once('retired', () => resolve()));
    await host.reload();
    await retired;
    const reported = errors.find((e) => e.code === 'ERR_SIGNAL_HANDLER');
    assert.ok(reported, errors.map((e) => e.message).join('; '));
    assert.deepEqual(reported.details['signals'], [12]);
    assert.ok(reported.message.includes(library));
    process.kill(process.pid, 'SIGUSR2');
    for (let i = 0; i < 100_000 && !existsSync(hit); i++) await nextTurn();
    assert.ok(existsSync(hit), 'the retired version\'s handler ran');
    assert.equal(await host.call('do_tick', 1), 3, 'the host lives');
  } finally {
    await host.close();
  }
});
