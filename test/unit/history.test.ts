import assert from 'node:assert/strict';
import { test } from 'node:test';
import { History } from '../../src/host/history.js';
import type { Version } from '../../src/version/version.js';
import type { VersionStatus } from '../../src/version/version-info.js';

/** The parts of a Version the history reads. */
function version(id: number, sha256: string, status: VersionStatus = 'retired'): Version {
  const artifact = { sha256, bytes: Buffer.from(sha256), library: '/lib.so', copy: `/copy-${id}` };
  const v = { id, status, artifact, get info() { return { id, status: v.status }; } };
  return v as unknown as Version;
}

test('only the newest keepBuilds earlier builds keep their bytes', () => {
  const history = new History(2);
  const versions = [1, 2, 3, 4, 5].map((id) => version(id, `sha${id}`));
  for (const v of versions) history.add(v);
  assert.deepEqual(versions.map((v) => v.artifact.bytes !== null), [false, false, true, true, true]);
  assert.deepEqual(history.infos.map((i) => i.id), [1, 2, 3, 4, 5]);
});

test('rollback goes to the newest earlier build with bytes, never the current build', () => {
  const history = new History(5);
  const [a, b, again] = [version(1, 'A'), version(2, 'B'), version(3, 'B')];
  for (const v of [a, b, again]) history.add(v);
  assert.equal(history.rollbackTarget(again), a, 'version 2 has the current build: passed over');
});

test('a build rolled back from or failed is not a target in any older version', () => {
  const history = new History(5);
  const v1 = version(1, 'A');
  const v2 = version(2, 'B');
  const v3 = version(3, 'A', 'rolled-back');
  const v4 = version(4, 'C');
  for (const v of [v1, v2, v3, v4]) history.add(v);
  assert.equal(history.rollbackTarget(v4), v2, 'A was rolled back from: v1 is passed over too');
  v2.status = 'failed';
  assert.equal(history.rollbackTarget(v4), undefined);
});

test('no earlier version: no target', () => {
  const history = new History(5);
  const only = version(1, 'A');
  history.add(only);
  assert.equal(history.rollbackTarget(only), undefined);
});
