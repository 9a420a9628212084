/**
 * `npm run bench -- stateful`: what state costs `builder build`, measured whole-process with
 * hyperfine (medians):
 * - steps100: one build of 100 trivial shell-local steps, every step boundary a durable checkpoint,
 *   each run from an empty state (hyperfine --prepare removes it), side by side with Packer 1.6.6
 *   on the same template. Target: builder ≤ 1/20 of Packer's time.
 * - uptodate10: a second run of a template of ten builds, all complete and up to date (the state
 *   is written by one run first; every measured run plans, finds nothing to do and reports the
 *   recorded artifacts). Target: under 0.2 s of wall time.
 * CPU time (user + system, children included; median of 3 runs under /usr/bin/time) is given too.
 * BENCH_RUNS sets the number of runs (default 10; Packer's 100-step case runs 3 times).
 * The load average is printed before and after: wall times on a busy machine measure the other
 * tenants too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builds10, loadAverage, repo, steps100 } from './common.js';

/** The installed executable, run as a program (its shebang line decides how Node starts), as
 * users run it: the bundled CLI with its code cache. */
const cli = join(repo, 'bin/builder.cjs');
const PACKER = '/usr/bin/packer';
const runs = Number(process.env.BENCH_RUNS ?? 10);

interface Measured {
  median: number;
  min: number;
  max: number;
}

/** hyperfine's median, min and max (seconds) of `cmd` run in `dir`. */
function hyperfine(dir: string, cmd: string, n: number, prepare?: string): Measured {
  const out = join(dir, 'hf.json');
  const args = ['--style', 'none', '--warmup', '1', '--runs', String(n), '--export-json', out];
  if (prepare !== undefined) args.push('--prepare', prepare);
  execFileSync('hyperfine', [...args, cmd], { cwd: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const r = (JSON.parse(readFileSync(out, 'utf8')) as { results: { median: number; min: number; max: number }[] }).results[0]!;
  return { median: r.median, min: r.min, max: r.max };
}

/** Median CPU seconds (user + system, children included) of 3 runs of `argv` in `dir`, each after
 * `prepare`: the stable figure when the machine is busy (wall time then measures the other tenants). */
function cpu(dir: string, argv: string[], prepare: () => void = () => undefined): number {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    prepare();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', ...argv], { cwd: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1' }, encoding: 'utf8' });
    const [user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    samples.push(user! + sys!);
  }
  return samples.sort((a, b) => a - b)[1]!;
}

const fmt = (m: Measured): string => `${m.median.toFixed(3)} s (${m.min.toFixed(3)}–${m.max.toFixed(3)})`;

if (spawnSync('hyperfine', ['--version']).status !== 0) {
  process.stdout.write('hyperfine is not installed; skipping the stateful benchmark.\n');
  process.exit(0);
}
const filter = process.argv.slice(2);
const wanted = (name: string): boolean => filter.length === 0 || filter.some((f) => name.includes(f));
const loadBefore = loadAverage();
const rows: string[] = [];
const builder = `${cli} build -color=false bench.pkr.hcl`;

if (wanted('steps100')) {
  const dir = mkdtempSync(join(tmpdir(), 'builder-bench-stateful-'));
  try {
    writeFileSync(join(dir, 'bench.pkr.hcl'), steps100);
    const ours = hyperfine(dir, builder, runs, 'rm -rf .packer.d');
    const oursCpu = cpu(dir, [cli, 'build', '-color=false', 'bench.pkr.hcl'], () => rmSync(join(dir, '.packer.d'), { recursive: true, force: true }));
    // The state really was written, step by step: the last run left 100 complete steps.
    const state = readFileSync(join(dir, '.packer.d/builder-state.json'), 'utf8');
    const complete = (state.match(/"status":"complete"/g) ?? []).length;
    if (complete < 101) throw new Error(`the 100-step run did not record its steps (${complete} complete records)`);
    let packerCell = 'not installed';
    let ratio = '';
    if (existsSync(PACKER)) {
      const p = hyperfine(dir, `${PACKER} build -color=false bench.pkr.hcl`, Math.min(runs, 3));
      const packerCpu = cpu(dir, [PACKER, 'build', '-color=false', 'bench.pkr.hcl']);
      packerCell = `${fmt(p)} | ${packerCpu.toFixed(2)} s`;
      ratio = `${(ours.median / p.median).toFixed(3)} / ${(oursCpu / packerCpu).toFixed(3)} (target ≤ 0.050)`;
    }
    rows.push(`| steps100, empty state, 100 durable checkpoints | ${fmt(ours)} | ${oursCpu.toFixed(2)} s | ${packerCell} | ${ratio} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (wanted('uptodate10')) {
  const dir = mkdtempSync(join(tmpdir(), 'builder-bench-stateful-'));
  try {
    writeFileSync(join(dir, 'bench.pkr.hcl'), builds10);
    const first = spawnSync(cli, ['build', '-color=false', 'bench.pkr.hcl'], { cwd: dir, encoding: 'utf8' });
    if (first.status !== 0) throw new Error(`the first run of the 10-build template failed: ${first.stderr}`);
    const second = spawnSync(cli, ['build', '-color=false', 'bench.pkr.hcl'], { cwd: dir, encoding: 'utf8' });
    const upToDate = (second.stdout.match(/Up to date/g) ?? []).length;
    if (upToDate !== 10) throw new Error(`the second run did not find all ten builds up to date:\n${second.stdout}`);
    const ours = hyperfine(dir, builder, runs);
    const oursCpu = cpu(dir, [cli, 'build', '-color=false', 'bench.pkr.hcl']);
    rows.push(`| uptodate10, second run of 10 builds | ${fmt(ours)} | ${oursCpu.toFixed(2)} s | | | ${ours.median < 0.2 ? 'under' : 'over'} the 0.2 s target (min ${ours.min < 0.2 ? 'under' : 'over'}) |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(
  `| case | builder wall median (min–max) | builder CPU | packer 1.6.6 wall median (min–max) | packer CPU | builder / packer (wall / CPU) |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n` +
    `load average before: ${loadBefore}; after: ${loadAverage()} (2 cores); ${runs} runs each\n`,
);
