/**
 * `node dist/bench/compare.js OLD NEW [ROUNDS]`: two executables side by side on a shared, noisy
 * machine — two builds of builder, for a before/after figure (`bin/builder.cjs` of two trees;
 * copy a tree's `bin/`, `dist/bin/`, `package.json` and a `node_modules` link aside to keep it),
 * or Packer and builder (`/usr/bin/packer bin/builder.cjs`), for a ratio measured alternately.
 * Each round runs OLD and NEW once on each of the build benchmark's templates (basic, builds10,
 * steps100), in an order that swaps every round so drift in the machine's load falls on both
 * alike, each run from an empty state. Prints the median wall time of each and the ratio
 * NEW / OLD. Not one of `npm run bench`'s scripts: it needs a second executable.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { basic, builds10, loadAverage, steps100 } from './common.js';

const [oldArg, newArg, roundsArg] = process.argv.slice(2);
if (!oldArg || !newArg) {
  process.stderr.write('usage: node dist/bench/compare.js OLD_EXECUTABLE NEW_EXECUTABLE [ROUNDS]\n');
  process.exit(2);
}
// Runs happen in temp folders: a path is made absolute here, a bare name is looked up in PATH.
const executable = (arg: string): string => (arg.includes('/') ? resolve(arg) : arg);
const oldExe = executable(oldArg);
const newExe = executable(newArg);
const rounds = Number(roundsArg ?? 15);
const templates: Record<string, string> = { basic, builds10, steps100 };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

process.stdout.write(`load average before: ${loadAverage()}\n\n`);
process.stdout.write(`| template | OLD median | NEW median | NEW / OLD |\n|---|---|---|---|\n`);
for (const [name, text] of Object.entries(templates)) {
  const dir = mkdtempSync(join(tmpdir(), 'builder-compare-'));
  try {
    writeFileSync(join(dir, 'bench.pkr.hcl'), text);
    const times = new Map<string, number[]>([
      [oldExe, []],
      [newExe, []],
    ]);
    for (let r = 0; r < rounds; r++) {
      for (const exe of r % 2 === 0 ? [oldExe, newExe] : [newExe, oldExe]) {
        rmSync(join(dir, '.packer.d'), { recursive: true, force: true });
        rmSync(join(dir, 'manifest.json'), { force: true });
        const t0 = process.hrtime.bigint();
        const run = spawnSync(exe, ['build', '-color=false', 'bench.pkr.hcl'], { cwd: dir, stdio: 'ignore', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (run.status !== 0) throw new Error(`${exe} build ${name} ${run.error ? `failed: ${run.error.message}` : `exited ${run.status ?? run.signal}`}`);
        times.get(exe)!.push(ms);
      }
    }
    const a = median(times.get(oldExe)!);
    const b = median(times.get(newExe)!);
    process.stdout.write(`| ${name} (${rounds} rounds) | ${a.toFixed(1)} ms | ${b.toFixed(1)} ms | ${(b / a).toFixed(3)} |\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`\nload average after: ${loadAverage()}\n`);
