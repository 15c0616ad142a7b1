import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { createIsolatedHost, IsoswapError } from '../src/index.js';
import { buildC, removeTempDirs, tickSource } from './helpers/native.js';

after(removeTempDirs);

const threw = (errors: IsoswapError[], event: string, message: string): void => {
  const found = errors.find((e) => e.details['event'] === event);
  assert.ok(found, `an error for the '${event}' listener among ${errors.map((e) => e.message).join('; ')}`);
  assert.equal(found.code, 'ERR_LISTENER_THREW');
  assert.equal((found.cause as Error).message, message);
};

test('a swap or close listener that throws (or rejects) changes no outcome: reload() resolves to the version that serves, close() resolves, later listeners run, the error is an error event', async () => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' } });
  const errors: IsoswapError[] = [];
  host.on('error', (err) => errors.push(err));
  let later = 0;
  host.on('swap', () => { throw new Error('swap listener broke'); });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a listener that rejects is the case
  host.on('swap', () => Promise.reject(new Error('async swap listener broke')));
  host.on('swap', () => { later++; });
  host.on('close', () => { throw new Error('close listener broke'); });
  await buildC(tickSource(2), library);
  const reported = once(host, 'error');
  assert.equal((await host.reload()).id, 2);
  assert.equal(host.current.id, 2);
  assert.equal(await host.call('do_tick', 1), 3);
  assert.equal(later, 1, 'the listener after the one that threw ran');
  await reported;
  await host.close();
  threw(errors, 'swap', 'swap listener broke');
  assert.ok(errors.some((e) => (e.cause as Error | undefined)?.message === 'async swap listener broke'));
  threw(errors, 'close', 'close listener broke');
});

test('an error listener that throws becomes a warning, not a throw into the swap', async () => {
  const library = await buildC(tickSource(1));
  const host = await createIsolatedHost({ library, functions: { do_tick: 'int32_t do_tick(int32_t)' } });
  host.on('error', () => { throw new Error('error listener broke'); });
  host.on('swap', () => { throw new Error('swap listener broke'); });
  const warned = once(process, 'warning');
  await buildC(tickSource(2), library);
  assert.equal((await host.reload()).id, 2);
  const [warning] = await warned as [Error & { code?: string }];
  assert.equal(warning.code, 'ERR_LISTENER_THREW');
  await host.close();
});
