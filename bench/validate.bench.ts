/**
 * Whole-process `builder validate` against `packer validate` (Packer 1.6.6) on one generated
 * template: 200 variables, 200 locals driven by them, 200 sources and one build using all of
 * them with 200 provisioners, each provisioner restricted (`only`) to one source — so both tools
 * prepare 200 builds of one provisioner each. Uses hyperfine when installed (median of its runs), else a loop of
 * its own. Prints a Markdown table with both medians and their ratio; see docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = 200;
const RUNS = 5;

/** The generated template (also valid for Packer 1.6.6). */
export function benchTemplate(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`variable "v${i}" {\n  type    = string\n  default = "value-${i}"\n}\n`);
  out.push('locals {');
  for (let i = 0; i < n; i++) out.push(`  l${i} = "\${upper(var.v${i})}-\${length(var.v${(i + 1) % n})}"`);
  out.push('}\n');
  for (let i = 0; i < n; i++) out.push(`source "null" "s${i}" {\n  communicator = "none"\n}\n`);
  out.push('build {');
  out.push(`  sources = [${Array.from({ length: n }, (_, i) => `"source.null.s${i}"`).join(', ')}]\n`);
  for (let i = 0; i < n; i++) out.push(`  provisioner "shell-local" {\n    only   = ["null.s${i}"]\n    inline = ["echo \${local.l${i}}"]\n  }\n`);
  out.push('}');
  return `${out.join('\n')}\n`;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median wall time in seconds of `argv` over RUNS runs (after one warm-up), measured here. */
function loopMedian(argv: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { env, cwd, stdio: 'ignore' });
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.status})`);
    if (i > 0) times.push(t);
  }
  return median(times);
}

function main(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  // The installed executable: the bundled CLI with its code cache (bin/builder.cjs).
  const mainJs = join(here, '..', '..', 'bin', 'builder.cjs');
  const dir = mkdtempSync(join(tmpdir(), 'builder-bench-'));
  try {
    const file = join(dir, 'bench.pkr.hcl');
    writeFileSync(file, benchTemplate(N));
    const env = { PATH: process.env.PATH, HOME: dir, PACKER_CONFIG_DIR: dir, CHECKPOINT_DISABLE: '1' };
    const commands: [string, string[]][] = [['builder validate', [mainJs, 'validate', file]]];
    if (have('packer')) commands.push(['packer validate (1.6.6)', ['packer', 'validate', file]]);
    else process.stdout.write('packer not installed: measuring builder alone\n\n');
    for (const [name, argv] of commands) {
      const r = spawnSync(argv[0]!, argv.slice(1), { env, cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${name} rejects the benchmark template:\n${r.stderr}${r.stdout}`);
    }
    const medians: number[] = [];
    let tool = 'own loop';
    if (have('hyperfine')) {
      tool = 'hyperfine';
      const json = join(dir, 'hyperfine.json');
      const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
      const r = spawnSync('hyperfine', ['--warmup', '1', '--runs', String(RUNS), '--style', 'none', '--export-json', json, ...commands.map(([, argv]) => argv.map(quote).join(' '))], {
        env,
        cwd: dir,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      if (r.status !== 0) throw new Error('hyperfine failed');
      const results = (JSON.parse(readFileSync(json, 'utf8')) as { results: { median: number }[] }).results;
      medians.push(...results.map((x) => x.median));
    } else {
      for (const [, argv] of commands) medians.push(loopMedian(argv, env, dir));
    }
    process.stdout.write(`Template: ${N} variables, ${N} locals, ${N} sources, ${N} provisioners (${tool}, ${RUNS} runs, median)\n\n`);
    process.stdout.write('| command | median |\n|---|---|\n');
    commands.forEach(([name], i) => process.stdout.write(`| ${name} | ${medians[i]!.toFixed(3)} s |\n`));
    if (medians.length === 2) process.stdout.write(`\nbuilder / packer = ${(medians[0]! / medians[1]!).toFixed(3)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
