/**
 * Commands on a 100,000-build state (issue 15): `state list`, `state show BUILD`, `plan` and a
 * `build` of a template of one build, each a whole `bin/builder.cjs` process in a folder whose
 * default state (`.packer.d/builder-state.json`) holds BENCH_BUILDS builds (default 100,000).
 * Measured by `/usr/bin/time`: wall seconds and peak resident memory. The build runs twice: the
 * first builds (and records) the template's build, the second finds it up to date.
 * Run: `node dist/bench/big-state.bench.js`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateClient } from '../src/state/file/client.js';
import { newState } from '../src/state/manager.js';
import type { BuildState } from '../src/state/types.js';
import { loadAverage, repo } from './common.js';

const builds = Number(process.env.BENCH_BUILDS ?? 100_000);
const AT = '2026-12-07T10:00:00.123456789Z';

/** A completed build of two steps, with an instance and an artifact (a typical record). */
function recorded(i: number): BuildState {
  const step = { type: 'shell-local', name: '', status: 'complete' as const, fingerprint: `sha256:${i.toString(16).padStart(64, '0')}`, error: '', attempts: 1, started_at: AT, ended_at: AT, inputs: {}, snapshot: null };
  return {
    name: `b${i}`,
    type: 'null',
    status: 'complete',
    fingerprint: `sha256:${(i * 7).toString(16).padStart(64, '0')}`,
    inputs: {},
    post_processor_chains: [],
    error: '',
    started_at: AT,
    completed_at: AT,
    instance: { id: `i-${i}`, builder_id: 'packer.null', provider: 'null', created_at: AT, metadata: {}, keep_on_failure: false },
    provisioners: [step, { ...step }],
    post_processors: [],
    artifacts: [{ id: `artifact-${i}`, builder_id: 'packer.null', type: 'null', files: [], metadata: {}, hash: '' }],
  };
}

const dir = mkdtempSync(join(tmpdir(), 'builder-big-state-'));
try {
  const path = join(dir, '.packer.d', 'builder-state.json');
  const state = newState();
  state.serial = 1;
  for (let i = 0; i < builds; i++) state.builds[`b${i}.null.s`] = recorded(i);
  await new FileStateClient({ path }).put(state);
  writeFileSync(join(dir, 'one.pkr.hcl'), 'source "null" "s" {\n  communicator = "none"\n}\nbuild {\n  name = "one"\n  sources = ["source.null.s"]\n}\n');
  process.stdout.write(`${builds} builds, ${(statSync(path).size / 1e6).toFixed(1)} MB state; load average ${loadAverage()}\n\n`);
  process.stdout.write('| command | exit | wall s | peak RSS MiB |\n|---|---|---|---|\n');
  const commands: string[][] = [
    ['state', 'list'],
    ['state', 'show', 'b77777.null.s'],
    ['plan', 'one.pkr.hcl'],
    ['build', 'one.pkr.hcl'],
    ['build', 'one.pkr.hcl'],
  ];
  for (const args of commands) {
    const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %M', process.execPath, join(repo, 'bin/builder.cjs'), ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
    const m = /@@ ([\d.]+) (\d+)/.exec(r.stderr ?? '');
    process.stdout.write(`| ${args.join(' ')} | ${r.status} | ${m ? m[1] : '?'} | ${m ? (Number(m[2]) / 1024).toFixed(0) : '?'} |\n`);
    if (r.status !== 0 && r.status !== 2) process.stdout.write(`  stderr: ${(r.stderr ?? '').slice(0, 400)}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
