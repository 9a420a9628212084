/**
 * `npm run bench -- build`: whole-process time and peak memory of `builder build` side by side
 * with Packer 1.6.6 on the same templates, measured with hyperfine (time) and /usr/bin/time
 * (peak RSS):
 * - basic: examples/basic-null.pkr.hcl (one shell-local step + manifest);
 * - steps100: one build with 100 trivial shell-local steps;
 * - builds10: ten builds of one trivial step each.
 * Packer runs without required_version (1.6.6 refuses ">= 1.7.0") and with CHECKPOINT_DISABLE=1.
 * Set BENCH_RUNS to change the number of runs (default 5; Packer's 100-step case runs 2 times).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, builds10, loadAverage, repo, steps100 } from './common.js';

/** The installed executable, run as a program (its shebang line decides how Node starts), as
 * users run it: the bundled CLI with its code cache. */
const cli = join(repo, 'bin/builder.cjs');
const PACKER = '/usr/bin/packer';
const runs = Number(process.env.BENCH_RUNS ?? 5);

const templates: Record<string, { text: string; packerRuns: number; target: number }> = {
  basic: {
    text: basic,
    packerRuns: runs,
    target: 1 / 3,
  },
  steps100: {
    text: steps100,
    packerRuns: 2,
    target: 1 / 20,
  },
  builds10: {
    text: builds10,
    packerRuns: runs,
    target: 1 / 5,
  },
};

/** Every run is a full build: builder's state from the previous run is removed first (otherwise
 * builder would find the build up to date and skip it). */
const FRESH = 'rm -rf .packer.d';

function hyperfine(dir: string, cmd: string, n: number): { mean: number; stddev: number } {
  const out = join(dir, 'hf.json');
  execFileSync('hyperfine', ['--style', 'none', '--warmup', '1', '--runs', String(n), '--prepare', FRESH, '--export-json', out, cmd], {
    cwd: dir,
    env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const r = (JSON.parse(readFileSync(out, 'utf8')) as { results: { mean: number; stddev: number }[] }).results[0]!;
  return { mean: r.mean, stddev: r.stddev ?? 0 };
}

/** Peak RSS (MiB) and CPU seconds (user + system, children included) of one run. CPU time is
 * what to compare when the machine is busy: wall time then measures the other tenants too. */
function usage(dir: string, argv: string[]): { mib: number; cpu: number } {
  rmSync(join(dir, '.packer.d'), { recursive: true, force: true });
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', ...argv], { cwd: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1' }, encoding: 'utf8' });
  const lines = r.stderr.trim().split('\n');
  const [kb, user, sys] = lines[lines.length - 1]!.split(' ').map(Number);
  return { mib: kb! / 1024, cpu: user! + sys! };
}

const filter = process.argv.slice(2);
const rows: string[] = [];
const haveHyperfine = spawnSync('hyperfine', ['--version']).status === 0;
if (!haveHyperfine) {
  process.stdout.write('hyperfine is not installed; skipping the build benchmark.\n');
  process.exit(0);
}
for (const [name, t] of Object.entries(templates)) {
  if (filter.length > 0 && !filter.some((f) => name.includes(f))) continue;
  const dir = mkdtempSync(join(tmpdir(), 'builder-bench-'));
  try {
    writeFileSync(join(dir, 'bench.pkr.hcl'), t.text);
    const ours = hyperfine(dir, `${cli} build -color=false bench.pkr.hcl`, runs);
    const ou = usage(dir, [cli, 'build', '-color=false', 'bench.pkr.hcl']);
    let packerCell = 'not installed';
    let ratio = '';
    let packerUse = '';
    if (existsSync(PACKER)) {
      const p = hyperfine(dir, `${PACKER} build -color=false bench.pkr.hcl`, t.packerRuns);
      const pu = usage(dir, [PACKER, 'build', '-color=false', 'bench.pkr.hcl']);
      packerCell = `${p.mean.toFixed(3)} s ± ${p.stddev.toFixed(3)} | ${pu.cpu.toFixed(2)} s`;
      ratio = `${(ours.mean / p.mean).toFixed(3)} / ${(ou.cpu / pu.cpu).toFixed(3)} (target ≤ ${t.target.toFixed(3)})`;
      packerUse = `${pu.mib.toFixed(1)} MiB`;
    }
    rows.push(
      `| ${name} | ${ours.mean.toFixed(3)} s ± ${ours.stddev.toFixed(3)} | ${ou.cpu.toFixed(2)} s | ${packerCell} | ${ratio} | ${ou.mib.toFixed(1)} MiB | ${packerUse} |`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(
  `| template | builder wall (mean ± σ) | builder CPU | packer 1.6.6 wall | packer CPU | builder / packer (wall / CPU) | builder peak RSS | packer peak RSS |\n|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n` +
    `load average while measuring: ${loadAverage()}\n`,
);
if (filter.length === 0 || filter.some((f) => 'steps100'.includes(f))) process.stdout.write(floor());

/**
 * The floor under any Packer-compatible tool on this machine: what the 100-step template costs
 * before the tool does anything of its own — Node starting (`node -e 0`, as the executable starts
 * it, without NODE_EXTRA_CA_CERTS) and the processes Packer's shell-local runs for each step
 * (`/bin/sh -c "VARS SCRIPT"`, which runs the script's `#!/bin/sh -e`), started one after the
 * other from a shell loop, the cheapest parent there is.
 */
function floor(): string {
  const dir = mkdtempSync(join(tmpdir(), 'builder-bench-'));
  try {
    writeFileSync(join(dir, 'step.sh'), '#!/bin/sh -e\necho step\n', { mode: 0o700 });
    writeFileSync(
      join(dir, 'steps.sh'),
      `i=0\nwhile [ $i -lt 100 ]; do\n  /bin/sh -c "PACKER_BUILDER_TYPE='null' PACKER_BUILD_NAME='s'  ${join(dir, 'step.sh')}" >/dev/null\n  i=$((i + 1))\ndone\n`,
    );
    const steps = hyperfine(dir, '/bin/sh steps.sh', runs);
    const node = hyperfine(dir, `env -u NODE_EXTRA_CA_CERTS ${process.execPath} -e 0`, runs);
    return (
      `\nFloor of steps100 (no tool): 100 step process chains from a shell loop ${steps.mean.toFixed(3)} s ± ${steps.stddev.toFixed(3)}, ` +
      `Node start ${node.mean.toFixed(3)} s ± ${node.stddev.toFixed(3)}; together ${(steps.mean + node.mean).toFixed(3)} s.\n`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
