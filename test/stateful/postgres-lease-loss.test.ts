/**
 * Lease-loss self-stop (issue 11): a build whose lock this runner cannot renew by its own
 * deadline (measured on its monotonic clock) is given up by the runner itself: the running step
 * is stopped, no cleanup runs — no destroy of the instance, no error-cleanup-provisioner, even
 * with -on-error=cleanup — and nothing more is written to the state, so another runner can take
 * the build over and resume on the instance.
 *
 * The renewals are blocked by a real lock: another connection holds `LOCK TABLE leases IN ACCESS
 * EXCLUSIVE MODE`, so the renewal waits in the database (the case a deadline exists for: a
 * database that does not answer, not one that refuses); and, in a second test, the database
 * server is stopped (renewals fail at once; the runner still waits for its own deadline). `builder build` runs in-process with a
 * test builder whose instances are files and whose destroy leaves a mark, so "no destroy" is seen.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { nativeComponents } from '../../src/components.js';
import type { BuilderDef } from '../../src/sdk/component.js';
import type { StateFile } from '../../src/state/types.js';
import { runInProcess } from '../cli/run.js';
import { postgresTestFile, until } from '../helpers/postgres.js';

const { cluster, pgTest } = postgresTestFile();

/** Instances are files named by their id in the working folder; destroy marks `destroyed`. */
const recording: BuilderDef<Record<string, never>> = {
  type: 'recording',
  builderId: 'test.recording',
  configSpec: { attributes: {} },
  prepare: () => ({ config: {}, errors: [], warnings: [] }),
  async create(_config, ctx) {
    writeFileSync(join(ctx.cwd, 'vm-1'), '');
    return { id: 'vm-1', metadata: {} };
  },
  async connect() {
    return {};
  },
  async finish(_config, instance) {
    return { builderId: 'test.recording', id: instance.id, files: [], description: `instance ${instance.id}`, state: {}, destroy: async () => undefined };
  },
  async destroy(_config, instance, ctx) {
    writeFileSync(join(ctx.cwd, 'destroyed'), instance.id);
    rmSync(join(ctx.cwd, instance.id), { force: true });
  },
  async reconnect(_config, instance, ctx) {
    return existsSync(join(ctx.cwd, instance.id));
  },
};

const template = `source "recording" "a" {}
build {
  sources = ["source.recording.a"]
  provisioner "shell-local" {
    inline = ["echo $$ > step.pid", "touch started", "sleep 60", "touch finished"]
  }
  error-cleanup-provisioner "shell-local" {
    inline = ["touch cleanup-ran"]
  }
}
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

pgTest('a runner that cannot renew its lease in time stops its build itself: the step is stopped, no cleanup or destroy runs, nothing more is written', async (t) => {
  const base = nativeComponents();
  const components = { ...base, builders: base.builders.with([recording as BuilderDef<unknown>]) };
  const dir = mkdtempSync(join(tmpdir(), 'builder-lease-loss-'));
  const blocker = new pg.Client({ connectionString: cluster().url });
  blocker.on('error', () => undefined);
  await blocker.connect();
  t.after(async () => {
    await blocker.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 't.pkr.hcl'), template);
  const url = cluster().url;
  const build = runInProcess(['build', '-color=false', `-state=${url}`, '-lease-ttl=2s', '-on-error=cleanup', 't.pkr.hcl'], { cwd: dir, env: { PATH: process.env.PATH }, components });

  const record = async () => {
    const pull = await runInProcess(['state', 'pull', `-state=${url}`], { cwd: dir, components });
    return pull.code === 0 ? (JSON.parse(pull.stdout) as StateFile).builds['t.pkr.hcl/recording.a'] : undefined;
  };
  await until('the step to start', async () => existsSync(join(dir, 'started')));
  await until('the step\'s start to be recorded', async () => (await record())?.provisioners[0]?.status === 'running');
  const pid = Number(readFileSync(join(dir, 'step.pid'), 'utf8'));
  // From now on every renewal waits for this lock.
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE builder_state.leases IN ACCESS EXCLUSIVE MODE');
  await until('the runner to stop its step', async () => !alive(pid));
  await blocker.query('COMMIT'); // the database answers again: whatever the runner still wanted to write may go through now

  const r = await build;
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /this runner lost the lock of build "recording\.a" \(ID [0-9a-f-]+\) on postgres:\/\/[^ ]+: it could not be renewed before its deadline/);
  assert.match(r.stderr, /Warning: lost the lock of build/);
  assert.ok(!existsSync(join(dir, 'finished')), 'the step did not go on');
  assert.ok(!existsSync(join(dir, 'destroyed')), 'no destroy ran, although -on-error=cleanup');
  assert.ok(existsSync(join(dir, 'vm-1')), 'the instance is still there for the runner that takes over');
  assert.ok(!existsSync(join(dir, 'cleanup-ran')), 'the error-cleanup-provisioner did not run');
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');

  const rec = (await record())!;
  assert.deepEqual(rec.provisioners.map((p) => p.status), ['running'], 'nothing was written after the lease was lost: the step is still recorded as running');
  assert.notEqual(rec.status, 'failed');
  assert.equal(rec.instance?.id, 'vm-1', 'the instance is still recorded');

  // The next run (any runner) resumes on the kept instance.
  writeFileSync(join(dir, 't.pkr.hcl'), template.replace('"sleep 60", ', ''));
  const next = await runInProcess(['build', '-color=false', `-state=${url}`, 't.pkr.hcl'], { cwd: dir, env: { PATH: process.env.PATH }, components });
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.match(next.stdout, /Resuming on the kept instance vm-1/);
});

pgTest('the database server stopped under a running build: the runner stops the build at its deadline, destroys nothing, and says what happened', async (t) => {
  const base = nativeComponents();
  const components = { ...base, builders: base.builders.with([recording as BuilderDef<unknown>]) };
  const dir = mkdtempSync(join(tmpdir(), 'builder-lease-loss-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 't.pkr.hcl'), template);
  const url = cluster().url.replace(/\/postgres$/, '/stopped');
  const admin = new pg.Client({ connectionString: cluster().url });
  await admin.connect();
  await admin.query('CREATE DATABASE stopped').finally(() => admin.end());
  const record = async () => {
    const pull = await runInProcess(['state', 'pull', `-state=${url}`], { cwd: dir, components });
    return pull.code === 0 ? (JSON.parse(pull.stdout) as StateFile).builds['t.pkr.hcl/recording.a'] : undefined;
  };
  const build = runInProcess(['build', '-color=false', `-state=${url}`, '-lease-ttl=2s', '-on-error=cleanup', 't.pkr.hcl'], { cwd: dir, env: { PATH: process.env.PATH }, components });
  await until('the step to start', async () => existsSync(join(dir, 'started')));
  await until('the step\'s start to be recorded', async () => (await record())?.provisioners[0]?.status === 'running');
  const pid = Number(readFileSync(join(dir, 'step.pid'), 'utf8'));
  // A step's start is committed with synchronous_commit off (durable: false): make it reach the
  // WAL on disk before the crash, so what the assertion below reads is only what came after.
  const flusher = new pg.Client({ connectionString: cluster().url });
  await flusher.connect();
  await flusher.query('CHECKPOINT').finally(() => flusher.end());
  await cluster().halt('immediate');
  try {
    await until('the runner to stop its step', async () => !alive(pid));
    const r = await build;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /this runner lost the lock of build "recording\.a"/);
    assert.ok(!existsSync(join(dir, 'finished')), 'the step did not go on');
    assert.ok(!existsSync(join(dir, 'destroyed')), 'no destroy ran, although -on-error=cleanup');
    assert.ok(!existsSync(join(dir, 'cleanup-ran')), 'the error-cleanup-provisioner did not run');
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at |Internal error/, 'no stack trace');
  } finally {
    await cluster().start();
  }
  const rec = (await record())!;
  assert.deepEqual(rec.provisioners.map((p) => p.status), ['running'], 'nothing was written after the lease was lost');
  assert.equal(rec.instance?.id, 'vm-1');
});
