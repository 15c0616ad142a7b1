// `npm run bench`: runs every benchmarks/*.bench.js in its own process, one after another
// (two cores: running them at once would measure each other), and passes their JSON lines on.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.js') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
let failed = 0;
for (const file of files) {
  const result = spawnSync(process.execPath, [join(here, file)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 300_000 });
  const lines = result.stdout.split('\n').filter((l) => l.startsWith('{'));
  for (const line of lines) console.log(line);
  if (result.status !== 0 || lines.length === 0) {
    failed++;
    console.error(`${file}: exit ${result.status ?? result.signal}, ${lines.length} JSON line(s)`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
