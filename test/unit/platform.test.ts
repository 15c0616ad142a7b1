// The platform layer: one implementation per system, chosen once; a system without one
// is refused with a typed error, which every entry point raises first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IsoswapError } from '../../src/index.js';
import { platform, platformOf } from '../../src/platform/platform.js';

test('Linux and Windows each have an implementation; this process uses Linux\'s', () => {
  assert.equal(platformOf('linux').libraryExtension, '.so');
  assert.equal(platformOf('win32').libraryExtension, '.dll');
  assert.equal(platformOf('win32').libraryPrefix, '');
  assert.equal(platform(), platformOf('linux'));
});

test('macOS and other systems are refused with ERR_UNSUPPORTED_PLATFORM', () => {
  for (const system of ['darwin', 'freebsd', 'aix'] as const) {
    assert.throws(() => platformOf(system), (err: unknown) =>
      err instanceof IsoswapError && err.code === 'ERR_UNSUPPORTED_PLATFORM' && err.message.includes(system) && err.details.platform === system);
  }
});

test('Windows names the crash codes a child dies with; Linux leaves them to the signal', () => {
  const windows = platformOf('win32');
  assert.equal(windows.crashName(0xc0000005), 'STATUS_ACCESS_VIOLATION');
  assert.equal(windows.crashName(-1073741819), 'STATUS_ACCESS_VIOLATION', 'the same code, read as a signed int');
  assert.equal(windows.crashName(3), 'abort()');
  assert.equal(windows.crashName(0), undefined);
  assert.equal(windows.crashName(null), undefined);
  assert.equal(platformOf('linux').crashName(139), undefined);
});
