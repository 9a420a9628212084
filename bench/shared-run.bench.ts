/**
 * Runs shared by many runners (issue 11; `npm run bench -- shared-run`), on a throwaway
 * PostgreSQL cluster (fsync on), with real `builder build -run-id` processes:
 *
 * - speed-up: a template of 40 null builds, each 3 shell-local steps of `sleep STEP` (default 1 s),
 *   built by 1, 2, 4 and 8 runners started together: wall time from the start of the runners to
 *   the exit of the last one, against the ideal (builds × steps × STEP / runners);
 * - takeover: one build whose runner is SIGKILLed in its second step while a second runner waits;
 *   the time from the kill to the start of the resumed step on the second runner, for a lease TTL
 *   of 2 s and 5 s (the waiting runner looks every min(1 s, TTL/3));
 * - checkpoint cost against the state's size, builder's rows against Terraform's pg backend
 *   design (the whole state as one blob per workspace, rewritten on every save): one step's
 *   record on states of 100, 1,000 and 10,000 builds. The blob write is that design reproduced
 *   (JSON of the whole state, one upsert of one row), not Terraform itself.
 *
 * Environment: BENCH_ONLY (sections: "speed,takeover,checkpoint"), BENCH_STEP_SECONDS, BENCH_RUNNERS (e.g. "1,2,4,8"), BENCH_BUILDS, BENCH_TTLS (seconds,
 * e.g. "2,5"), BENCH_TAKEOVERS (repetitions per TTL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { StateManager, newState } from '../src/state/manager.js';
import { createPostgresClient } from '../src/state/postgres/client.js';
import type { StateFile } from '../src/state/types.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { completeBuild } from '../test/state/helpers/fixtures.js';
import { loadAverage } from './common.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const STEP = Number(process.env.BENCH_STEP_SECONDS ?? 1);
const RUNNERS = (process.env.BENCH_RUNNERS ?? '1,2,4,8').split(',').map(Number);
const BUILDS = Number(process.env.BENCH_BUILDS ?? 40);
const TTLS = (process.env.BENCH_TTLS ?? '2,5').split(',').map(Number);
const TAKEOVERS = Number(process.env.BENCH_TAKEOVERS ?? 3);
/** Sections to run (default all): "speed", "takeover", "checkpoint". */
const ONLY = (process.env.BENCH_ONLY ?? 'speed,takeover,checkpoint').split(',');

const children = new Set<ChildProcess>();

/** Starts `builder build` as runner `name` of run `runId`; resolves to its exit code. */
function runner(dir: string, url: string, runId: string, name: string, ttl: number): { child: ChildProcess; done: Promise<number> } {
  // Each measurement in its own workspace: the same template name in another folder is the same build.
  const args = ['build', '-color=false', `-state=${url}`, `-workspace=${runId}`, `-run-id=${runId}`, `-runner=${name}`, `-lease-ttl=${ttl}s`, 't.pkr.hcl'];
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: 'ignore',
  });
  children.add(child);
  const done = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  void done.then(() => children.delete(child));
  return { child, done };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

const cluster = await startPostgres({ durable: true });
if ('skip' in cluster) {
  process.stdout.write(`skipped: ${cluster.skip}\n`);
  process.exit(0);
}
let stopping = false;
// Interrupted (SIGINT/SIGTERM): stop the runners and the cluster, not leave them behind.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) c.kill('SIGKILL');
    void cluster.stop().finally(() => process.exit(130));
  });
}

function template(builds: number, steps: readonly string[]): string {
  const names = Array.from({ length: builds }, (_, i) => `b${i + 1}`);
  return (
    names.map((b) => `source "null" "${b}" { communicator = "none" }\n`).join('') +
    `build {\n  sources = [${names.map((b) => `"source.null.${b}"`).join(', ')}]\n` +
    steps.map((s) => `  provisioner "shell-local" { inline = [${JSON.stringify(s)}] }\n`).join('') +
    '}\n'
  );
}
const out: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'builder-bench-shared-'));
try {
  // ---- speed-up ----------------------------------------------------------------------------------
  out.push(`\nShared-run speed-up: ${BUILDS} builds × 3 steps of sleep ${STEP}s; load average before: ${loadAverage()}\n`);
  out.push('| runners | wall s | ideal s | ideal / wall |\n|---|---|---|---|');
  for (const n of ONLY.includes('speed') ? RUNNERS : []) {
    const dir = mkdtempSync(join(work, `speed-${n}-`));
    writeFileSync(join(dir, 't.pkr.hcl'), template(BUILDS, [`sleep ${STEP}`, `sleep ${STEP}`, `sleep ${STEP}`]));
    const t0 = performance.now();
    const codes = await Promise.all(Array.from({ length: n }, (_, i) => runner(dir, cluster.url, `speed-${n}`, `r${i + 1}`, 30).done));
    const wall = (performance.now() - t0) / 1000;
    if (codes.some((c) => c !== 0)) throw new Error(`a runner failed (${codes.join(', ')})`);
    const ideal = (BUILDS * 3 * STEP) / n;
    out.push(`| ${n} | ${wall.toFixed(1)} | ${ideal.toFixed(1)} | ${(ideal / wall).toFixed(2)} |`);
    process.stdout.write(`${out.at(-1)!}\n`);
  }
  out.push(`\nLoad average after: ${loadAverage()}`);

  // ---- takeover ----------------------------------------------------------------------------------
  out.push(`\nTakeover after a SIGKILL (kill → first line of the resumed step on the other runner), ${TAKEOVERS} runs per TTL\n`);
  out.push('| lease TTL s | median s | min s | max s |\n|---|---|---|---|');
  for (const ttl of ONLY.includes('takeover') ? TTLS : []) {
    const times: number[] = [];
    for (let k = 0; k < TAKEOVERS; k++) {
      const dir = mkdtempSync(join(work, `takeover-${ttl}-${k}-`));
      writeFileSync(join(dir, 't.pkr.hcl'), template(1, ['true', 'echo start >> starts.log; sleep 3']));
      const a = runner(dir, cluster.url, `takeover-${ttl}-${k}`, 'a', ttl);
      const starts = (): number => (existsSync(join(dir, 'starts.log')) ? readFileSync(join(dir, 'starts.log'), 'utf8').split('\n').length - 1 : 0);
      await until(() => starts() >= 1);
      const b = runner(dir, cluster.url, `takeover-${ttl}-${k}`, 'b', ttl);
      await new Promise((r) => setTimeout(r, 300)); // b has joined and is waiting
      a.child.kill('SIGKILL');
      const killed = performance.now();
      await until(() => starts() >= 2);
      times.push((performance.now() - killed) / 1000);
      await a.done;
      if ((await b.done) !== 0) throw new Error('the runner that took over failed');
    }
    out.push(`| ${ttl} | ${quantile(times, 0.5).toFixed(2)} | ${Math.min(...times).toFixed(2)} | ${Math.max(...times).toFixed(2)} |`);
    process.stdout.write(`${out.at(-1)!}\n`);
  }

  // ---- checkpoint cost against state size: rows against one blob per workspace ---------------------
  out.push('\nOne step record written, against the size of the state (durable; median / p99 ms)\n');
  out.push('| builds | builder rows: checkpoint median | p99 | one blob per workspace: median | p99 | blob size KB |\n|---|---|---|---|---|---|');
  const pool = new pg.Pool({ connectionString: cluster.url, max: 1 });
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE IF NOT EXISTS tf_states (name text PRIMARY KEY, data text)');
  const time = async (runs: number, fn: (i: number) => Promise<unknown>): Promise<number[]> => {
    for (let i = 0; i < 10; i++) await fn(i);
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn(i);
      xs.push(performance.now() - t0);
    }
    return xs;
  };
  let schema = 0;
  for (const n of ONLY.includes('checkpoint') ? [100, 1000, 10_000] : []) {
    const state: StateFile = newState();
    state.serial = 1;
    for (let i = 0; i < n; i++) state.builds[`build-${i}.null.s`] = completeBuild(`build-${i}`, 2);
    const client = createPostgresClient(cluster.url, { schema: `shared_bench_${++schema}` });
    await client.put(structuredClone(state));
    const m = await StateManager.open({ client });
    const rows = await time(200, (i) => m.updateStep(`build-${i % n}.null.s`, 'provisioners', i % 2, (s) => void (s.status = s.status === 'running' ? 'complete' : 'running')));
    await m.close();
    const blob = await time(n >= 10_000 ? 50 : 200, async (i) => {
      const step = state.builds[`build-${i % n}.null.s`]!.provisioners[i % 2]!;
      step.status = step.status === 'running' ? 'complete' : 'running';
      state.serial++;
      await pool.query('INSERT INTO tf_states (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = excluded.data', [`ws-${n}`, JSON.stringify(state)]);
    });
    const kb = Buffer.byteLength(JSON.stringify(state)) / 1024;
    out.push(`| ${n.toLocaleString('en')} | ${quantile(rows, 0.5).toFixed(2)} | ${quantile(rows, 0.99).toFixed(2)} | ${quantile(blob, 0.5).toFixed(2)} | ${quantile(blob, 0.99).toFixed(2)} | ${kb.toFixed(0)} |`);
    process.stdout.write(`${out.at(-1)!}\n`);
  }
  await pool.end();
  out.push(`\nLoad average after: ${loadAverage()} (2 cores)`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${out.join('\n')}\n`);
