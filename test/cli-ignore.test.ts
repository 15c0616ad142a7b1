// Which paths under --src start no build: the defaults, --ignore globs, exact files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IgnoreRules } from '../src/cli/ignore-rules.js';

test('IgnoreRules: defaults, gitignore-style globs, exact files; sources pass', () => {
  const rules = new IgnoreRules('/proj', ['gen/**', 'assets/*.png', 'scratch/'], ['/proj/run.out']);
  const ignored = [
    '/proj/target/release/libgame.so', '/proj/target', '/proj/.git/index', '/proj/node_modules/x/y.js',
    '/proj/build.log', '/proj/sub/deep.log', '/proj/.isoswap-1234/v1-libgame.so', '/proj/.game.c.swp',
    '/proj/game.o', '/proj/Cargo.lock', '/proj/gen/table.c', '/proj/gen', '/proj/assets/a.png',
    '/proj/scratch/notes.c', '/proj/a/scratch/b.c', '/proj/run.out',
  ];
  const sources = ['/proj/game.c', '/proj/src/lib.rs', '/proj/Cargo.toml', '/proj/assets/a.c', '/proj/generic.c', '/proj/run.out2', '/proj', '/elsewhere/x.log'];
  for (const path of ignored) assert.equal(rules.ignores(path), true, path);
  for (const path of sources) assert.equal(rules.ignores(path), false, path);
});
