/**
 * Shared runs on the PostgreSQL backend (src/state/postgres/runs.ts) against a real server: four
 * runner processes work through 40 builds (each claimed and completed exactly once, SKIP LOCKED);
 * a runner whose lease lapsed is taken over with a new token and its late finish refused; a
 * build that keeps losing its runners fails after the bounded number of attempts; a runner with
 * other inputs is refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { StateManager } from '../../src/state/manager.js';
import { createPostgresClient, type PostgresStateClient } from '../../src/state/postgres/client.js';
import { postgresTestFile } from '../helpers/postgres.js';
import { bump, counter } from './helpers/counters.js';
import { waitForLocks } from './helpers/postgres-backend.js';
import { exited } from './helpers/processes.js';

const RUNNER = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'pg-runner.js');
let schemas = 0;
const clients: PostgresStateClient[] = [];
const { cluster, pgTest } = postgresTestFile(async () => void (await Promise.all(clients.map((c) => c.close().catch(() => undefined)))));

function open(schema: string, extra: { leaseTtlMs?: number; who?: string } = {}): PostgresStateClient {
  const c = createPostgresClient(cluster().url, { schema, leaseTtlMs: extra.leaseTtlMs ?? 20_000, holder: extra.who ? { who: extra.who } : undefined });
  clients.push(c);
  return c;
}

async function expireLease(schema: string, id: string): Promise<void> {
  const c = new pg.Client({ connectionString: cluster().url });
  c.on('error', () => undefined);
  await c.connect();
  await c.query(`UPDATE ${schema}.leases SET expires_at = clock_timestamp() - interval '1 second' WHERE id = $1`, [id]);
  await c.end();
}

pgTest('four runner processes share a run of 40 builds: each is claimed and completed exactly once', async () => {
  const schema = `runs_${++schemas}`;
  const options = { url: cluster().url, schema, leaseTtlMs: 20_000 };
  await open(schema).locks(); // create the schema once, before the runners race
  const runners = Array.from({ length: 4 }, () => spawn(process.execPath, [RUNNER, JSON.stringify(options), 'run-1', '40'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const results = await Promise.all(runners.map(exited));
  const claimed: string[] = [];
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { claimed: string[]; lost: string[] };
    assert.deepEqual(out.lost, []);
    claimed.push(...out.claimed);
  }
  assert.equal(claimed.length, 40);
  assert.equal(new Set(claimed).size, 40, 'no build claimed twice');
  const c = open(schema);
  const m = await StateManager.open({ client: c });
  for (let i = 0; i < 40; i++) assert.equal(counter(m.build(`b${i}`)), 1, `b${i} ran once`);
  const progress = await c.runProgress('run-1');
  assert.equal(progress.done, 40);
  assert.equal(progress.pending + progress.claimed + progress.failed, 0);
  assert.deepEqual(await c.locks(), [], 'every claim lease released');
});

pgTest('a lapsed claim is taken over with a new token; the old runner\'s late finish changes nothing; attempts are bounded', async () => {
  const schema = `runs_${++schemas}`;
  const a = open(schema, { who: 'runner-a' });
  const b = open(schema, { who: 'runner-b' });
  await a.joinRun('r', 'h');
  await b.joinRun('r', 'h');
  const first = await a.claimBuild('r', ['x']);
  assert.equal(first?.build, 'x');
  assert.equal(first.attempt, 1);
  assert.equal(await b.claimBuild('r', ['x']), undefined, 'a live claim is skipped');
  assert.deepEqual((await b.runProgress('r')).holders, { x: 'runner-a' });
  await expireLease(schema, first.lock.id); // runner a froze past its TTL
  const second = await b.claimBuild('r', ['x'], { maxAttempts: 2 });
  assert.equal(second?.build, 'x');
  assert.equal(second.attempt, 2);
  assert.deepEqual((await a.locks()).map((l) => l.id), [second.lock.id], 'only the takeover\'s lease is live');
  assert.equal(await a.finishBuild('r', first, 'done'), false, 'the lapsed runner cannot finish the build');
  assert.equal((await b.runProgress('r')).claimed, 1);
  await expireLease(schema, second.lock.id); // and b froze too
  const c = open(schema, { who: 'runner-c' });
  const gaveUp: string[] = [];
  assert.equal(await c.claimBuild('r', ['x'], { maxAttempts: 2, onGiveUp: (b, reason) => gaveUp.push(`${b}: ${reason}`) }), undefined);
  const progress = await c.runProgress('r');
  assert.equal(progress.failed, 1, 'the build that lost two runners is failed, not claimed a third time');
  assert.deepEqual(progress.failedBuilds, ['x']);
  assert.match(progress.reasons.x ?? '', /^given up after 2 attempt\(s\): each runner that claimed it stopped/, 'the reason names the attempts');
  assert.deepEqual(gaveUp, [`x: ${progress.reasons.x}`], 'the runner that gave it up is told');
});

pgTest('a runner whose inputs differ from the run\'s is refused with a clear message', async () => {
  const schema = `runs_${++schemas}`;
  await open(schema).joinRun('r', 'hash-1');
  await assert.rejects(open(schema).joinRun('r', 'hash-2'), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'STATE_RUN_INPUTS_DIFFER');
    assert.match((err as Error).message, /started with other inputs \(hash hash-1; this runner's is hash-2\)/);
    return true;
  });
});

pgTest('20 concurrent writers (builds and removals on disjoint builds, each its own client and connections) lose no update', async () => {
  const schema = `runs_${++schemas}`;
  await open(schema).locks();
  const writers = Array.from({ length: 20 }, () => StateManager.open({ client: waitForLocks(open(schema)) }));
  const managers = await Promise.all(writers);
  await Promise.all(
    managers.map(async (m, i) => {
      for (let k = 0; k < 5; k++) {
        if (i % 2 === 0) await m.update(`own${i}`, (b) => bump(b, `own${i}`));
        else {
          await m.update(`scratch${i}-${k}`, (b) => bump(b, `scratch${i}-${k}`));
          assert.deepEqual(await m.remove([`scratch${i}-${k}`]), [`scratch${i}-${k}`]);
        }
      }
    }),
  );
  const final = await StateManager.open({ client: open(schema) });
  for (let i = 0; i < 20; i += 2) assert.equal(counter(final.build(`own${i}`)), 5, `own${i}`);
  assert.deepEqual(final.buildKeys().filter((k) => k.startsWith('scratch')), []);
  assert.equal(final.serial, 10 * 5 + 10 * 5 * 2, 'one serial per change, none lost');
});

pgTest('a version 1 schema (no failure reasons) is migrated to version 2 on first use, its runs kept', async () => {
  const schema = `runs_${++schemas}`;
  const a = open(schema, { who: 'runner-a' });
  await a.joinRun('r', 'hash-1');
  const first = await a.claimBuild('r', ['x']);
  assert.ok(first);
  const c = new pg.Client({ connectionString: cluster().url });
  c.on('error', () => undefined);
  await c.connect();
  await c.query(`ALTER TABLE ${schema}.run_builds DROP COLUMN reason`);
  await c.query(`DELETE FROM ${schema}.schema_migrations WHERE version = 2`);
  await c.end();
  await expireLease(schema, first.lock.id);
  const b = open(schema, { who: 'runner-b' });
  await b.joinRun('r', 'hash-1');
  assert.equal(await b.claimBuild('r', ['x'], { maxAttempts: 1 }), undefined, 'the v1 run is read after the migration');
  const progress = await b.runProgress('r');
  assert.deepEqual(progress.failedBuilds, ['x']);
  assert.match(progress.reasons.x ?? '', /given up after 1 attempt/);
});
