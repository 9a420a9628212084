/**
 * The database switched read-only in the middle of a `builder build` (issue 11), end to end on a
 * throwaway cluster of its own (the switch is the whole database's): while the build's second
 * step runs, either `ALTER DATABASE … SET default_transaction_read_only = on` and every session of
 * the builder terminated (so its reconnections are read-only), or `ALTER SYSTEM SET
 * default_transaction_read_only = on` and a reload (its open sessions turn read-only). The build ends with one clear message
 * naming the cause and what to do, no stack trace; the state keeps what was recorded before (the
 * first step complete) and loads; once the database is writable again the next run resumes —
 * the completed first step does not run again — and completes.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { ChildProcess } from 'node:child_process';
import { postgresTestFile, until } from '../helpers/postgres.js';
import { runCli, startCli } from '../build/cli.js';
import type { StateFile } from '../../src/state/types.js';
import { expectExit, inWorkdir } from './semantics-helpers.js';

const children = new Set<ChildProcess>();
const { cluster, pgTest } = postgresTestFile(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function admin(...statements: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: cluster().url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    for (const sql of statements) await c.query(sql);
  } finally {
    await c.end();
  }
}

const TEMPLATE =
  'source "null" "b" { communicator = "none" }\nbuild {\n  sources = ["source.null.b"]\n' +
  `  provisioner "shell-local" { inline = ["echo s1 >> steps.log"] }\n` +
  `  provisioner "shell-local" { inline = ["echo s2 >> steps.log; touch ro-now; while [ ! -e ro-done ]; do sleep 0.1; done"] }\n` +
  `  provisioner "shell-local" { inline = ["echo s3 >> steps.log"] }\n` +
  '}\n';

interface Switch {
  how: string;
  /** Each case in its own workspace (the other's build is complete in the same database). */
  workspace: string;
  on: string[];
  off: string[];
}

const SWITCHES: Switch[] = [
  {
    how: 'ALTER DATABASE and the sessions terminated',
    workspace: 'ro-database',
    on: [
      'ALTER DATABASE postgres SET default_transaction_read_only = on',
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'postgres' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    ],
    off: ['SET default_transaction_read_only = off', 'ALTER DATABASE postgres RESET default_transaction_read_only'],
  },
  {
    how: 'ALTER SYSTEM and a reload',
    workspace: 'ro-system',
    on: ['ALTER SYSTEM SET default_transaction_read_only = on', 'SELECT pg_reload_conf()'],
    off: ['SET default_transaction_read_only = off', 'ALTER SYSTEM RESET default_transaction_read_only', 'SELECT pg_reload_conf()'],
  },
];

for (const sw of SWITCHES) {
  pgTest(`the database switched read-only mid-run (${sw.how}): one clear error, the previous state intact, the next run resumes once it is writable`, async () => {
    await readOnlyMidRun(sw);
  });
}

/** Resolves once a new session sees default_transaction_read_only as `value`, then gives the
 * server's other backends a moment to take the reload (they read it at their next command). */
async function settled(value: 'on' | 'off'): Promise<void> {
  await until(`default_transaction_read_only = ${value}`, async () => {
    const c = new pg.Client({ connectionString: cluster().url });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (await c.query<{ v: string }>('SELECT current_setting($1) AS v', ['default_transaction_read_only'])).rows[0]?.v === value;
    } finally {
      await c.end();
    }
  });
  await new Promise((r) => setTimeout(r, 500));
}

async function readOnlyMidRun(sw: Switch): Promise<void> {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', TEMPLATE);
    const state = `-state=${cluster().url}`;
    const ws = `-workspace=${sw.workspace}`;
    const r = startCli(['build', '-color=false', state, ws, 't.pkr.hcl'], w.dir);
    children.add(r.child);
    await until('the second step to start', async () => existsSync(join(w.dir, 'ro-now')) || r.child.exitCode !== null);
    try {
      await admin(...sw.on);
      await settled('on');
      await writeFile(join(w.dir, 'ro-done'), '');
      const failed = await r.done;
      children.delete(r.child);
      assert.equal(failed.code, 1, `the build fails\n${failed.stdout}\n${failed.stderr}`);
      const out = failed.stdout + failed.stderr;
      assert.match(out, /Error: could not \w+ the PostgreSQL state at postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres \(workspace "ro-[a-z]+"\): cannot execute \w+ in a read-only transaction \(25006\)\. The database is read-only/, 'the cause is named');
      assert.match(out, /the state as last recorded is intact\. Point the state at the primary, or make the database writable again \(ALTER DATABASE … SET default_transaction_read_only = off\), then run the same command again/, 'what to do is said');
      assert.match(out, /\[BLD\d{4}\]/);
      assert.doesNotMatch(out, /\n\s+at |Internal error/, 'no stack trace');

      // Read-only commands still work: the state loads, as it was before the switch.
      const pull = await runCli(['state', 'pull', state, ws], w.dir);
      expectExit(pull, 0);
      const rec = Object.values((JSON.parse(pull.stdout) as StateFile).builds)[0];
      assert.equal(rec?.provisioners[0]?.status, 'complete', 'the first step is still recorded complete');
      assert.notEqual(rec?.status, 'complete');
    } finally {
      await admin(...sw.off);
      await settled('off');
    }
    const again = await runCli(['build', '-color=false', state, ws, 't.pkr.hcl'], w.dir);
    expectExit(again, 0);
    assert.match(again.stdout, /==> null\.b: Resuming/, 'the next run resumes');
    const lines = await w.lines('steps.log');
    assert.equal(lines.filter((l) => l === 's1').length, 1, 'the completed first step did not run again');
    assert.equal(lines.filter((l) => l === 's3').length, 1, 'the build completed');
    const pull = await runCli(['state', 'pull', state, ws], w.dir);
    expectExit(pull, 0);
    assert.equal(Object.values((JSON.parse(pull.stdout) as StateFile).builds)[0]?.status, 'complete');
  });
}
