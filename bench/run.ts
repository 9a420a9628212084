/**
 * `npm run bench`: runs every benchmark script (dist/bench/*.bench.js) in turn, or those whose
 * name contains one of the arguments. Each script prints its own table; see docs/benchmarks.md.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
let failed = 0;
for (const s of scripts) {
  process.stdout.write(`\n### ${s.replace(/\.bench\.js$/, '')}\n\n`);
  const r = spawnSync(process.execPath, [join(here, s)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
