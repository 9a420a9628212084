/**
 * Leases and faults of the PostgreSQL backend against a real server (one throwaway cluster for
 * this file): lock exclusion and holder info between processes, break by id, expiry by the
 * server's clock with the late writes of a frozen holder refused by the database, a terminated
 * connection, a server restart in the middle of a run, and a password never shown.
 * No timed assertions: tests wait for conditions (a lease gone on the server), never for a time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { StateLockedError } from '../../src/state/errors.js';
import { StateManager } from '../../src/state/manager.js';
import { createPostgresClient, StateLeaseLostError, type PostgresStateClient } from '../../src/state/postgres/client.js';
import { postgresTestFile, until } from '../helpers/postgres.js';
import { bump, counter } from './helpers/counters.js';
import { completeBuild } from './helpers/fixtures.js';
import type { PgBackendOptions } from './helpers/postgres-backend.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'pg-child.js');
let schemas = 0;
const clients: PostgresStateClient[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
const { cluster, pgTest } = postgresTestFile(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
});

function options(extra: Partial<PgBackendOptions> = {}): PgBackendOptions {
  return { url: cluster().url, schema: `leases_${++schemas}`, leaseTtlMs: 20_000, ...extra };
}

function open(o: PgBackendOptions, warnings: string[] = []): PostgresStateClient {
  const { url, ...rest } = o;
  const c = createPostgresClient(url, { ...rest, onWarning: (w) => warnings.push(w) });
  clients.push(c);
  return c;
}

interface Reply {
  id?: string;
  ok?: boolean;
  serial?: number;
  error?: string;
  code?: string;
  done?: number;
  errors?: number;
  failures?: string[];
}

/** A pg-child.js process and a way to send it commands. */
function child(o: PgBackendOptions): { proc: ChildProcessWithoutNullStreams; send(cmd: object): Promise<Reply>; stderr(): string } {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(o)], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const replies: ((r: Reply) => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => replies.shift()?.(JSON.parse(l) as Reply));
  return {
    proc,
    send: (cmd) =>
      new Promise<Reply>((resolve, reject) => {
        replies.push(resolve);
        proc.once('exit', (code) => reject(new Error(`child exited (${String(code)}): ${err}`)));
        proc.stdin.write(`${JSON.stringify(cmd)}\n`);
      }),
    stderr: () => err,
  };
}

async function admin<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: cluster().url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

pgTest('two processes: a build lease excludes the other, names its holder, and is broken by id', async () => {
  const o = options();
  const holder = child(o);
  const held = await holder.send({ cmd: 'lock', build: 'web' });
  assert.ok(held.id, JSON.stringify(held));
  await holder.send({ cmd: 'write', build: 'web' });
  const m = await StateManager.open({ client: open(o) });
  await assert.rejects(m.lockBuild('web', 'build'), (err: unknown) => {
    assert.ok(err instanceof StateLockedError);
    const h = err.holders[0]!;
    assert.equal(h.id, held.id);
    assert.equal(h.pid, holder.proc.pid);
    assert.equal(h.operation, 'pg test hold');
    assert.equal(h.build, 'web');
    assert.match(h.who, /@/);
    assert.match(err.message, new RegExp(`builder state unlock -state=\\S+ ${held.id!}`));
    return true;
  });
  const listed = await m.locks();
  assert.deepEqual(listed.map((l) => l.id), [held.id]);
  // The holder's connections are named after it.
  const names = await admin<{ application_name: string }>(`SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'builder %'`);
  assert.ok(names.some((n) => n.application_name.includes(`pid ${holder.proc.pid}`)), JSON.stringify(names));
  // Broken by id: this process takes the build, the holder's next write on it is refused.
  await m.unlock(held.id!);
  assert.ok(await m.lockBuild('web', 'build'));
  await m.update('web', (b) => bump(b, 'web'));
  const late = await holder.send({ cmd: 'write', build: 'web' });
  assert.equal(late.code, 'STATE_LEASE_LOST', JSON.stringify(late));
  // A build it does not depend on a lease for is still writable by it.
  assert.equal((await holder.send({ cmd: 'write', build: 'other' })).ok, true);
  await holder.send({ cmd: 'exit' });
  const final = await StateManager.open({ client: open(o) });
  assert.equal(counter(final.build('web')), 2, 'the holder\'s first write and the new holder\'s, not the late one');
  assert.equal(counter(final.build('other')), 1);
  await m.close();
});

pgTest('a frozen holder (SIGSTOP) loses its lease by the server clock; its late writes are refused, the takeover\'s kept', async () => {
  const o = options({ leaseTtlMs: 1500 });
  const holder = child(o);
  assert.ok((await holder.send({ cmd: 'lock', build: 'db' })).id);
  assert.equal((await holder.send({ cmd: 'write', build: 'db' })).ok, true);
  const c = open(o);
  holder.proc.kill('SIGSTOP');
  try {
    // Expiry is the server's: wait until the server no longer lists the lease.
    await until('the frozen lease to expire on the server', async () => (await c.locks()).length === 0);
    const m = await StateManager.open({ client: c });
    const taken = await m.lockBuild('db', 'takeover');
    assert.ok(taken);
    const tokens = await admin<{ token: string }>(`SELECT token::text AS token FROM ${o.schema}.leases WHERE scope = 'build'`);
    assert.equal(tokens.length, 1);
    await m.update('db', (b) => bump(b, 'db'));
    await m.update('db', (b) => bump(b, 'db'));
  } finally {
    holder.proc.kill('SIGCONT');
  }
  const late = await holder.send({ cmd: 'write', build: 'db' });
  assert.equal(late.code, 'STATE_LEASE_LOST', JSON.stringify(late));
  assert.match(late.error ?? '', /Nothing was written/);
  const final = await StateManager.open({ client: open(o) });
  assert.equal(counter(final.build('db')), 3, 'one write of the frozen holder before, two of the takeover');
  await holder.send({ cmd: 'exit' });
});

pgTest('the database refuses a write whose lease is gone even when the writer has not noticed yet', async () => {
  const o = options({ leaseTtlMs: 60_000 });
  const c = open(o);
  const m = await StateManager.open({ client: c });
  const lease = await m.lockBuild('x', 'build');
  await m.update('x', (b) => bump(b, 'x'));
  // Another process breaks it behind this client's back (no renewal ran in between).
  await admin(`DELETE FROM ${o.schema}.leases WHERE id = $1`, [lease!.id]);
  await assert.rejects(m.update('x', (b) => bump(b, 'x')), StateLeaseLostError);
  // Expired on the server clock (its row still there) is refused the same way.
  const again = await StateManager.open({ client: open(o) });
  const second = await again.lockBuild('x', 'build');
  await admin(`UPDATE ${o.schema}.leases SET expires_at = clock_timestamp() - interval '1 second' WHERE id = $1`, [second!.id]);
  await assert.rejects(again.update('x', (b) => bump(b, 'x')), StateLeaseLostError);
  const final = await StateManager.open({ client: open(o) });
  assert.equal(counter(final.build('x')), 1);
  assert.equal(final.serial, 1);
});

pgTest('expiry and renewal use the server clock: a renewed lease stays, its expiry is set by the server', async () => {
  const o = options({ leaseTtlMs: 600 });
  const c = open(o);
  const m = await StateManager.open({ client: c });
  const lease = await m.lockBuild('r', 'build');
  const first = await admin<{ renewed: Date; expires: Date }>(`SELECT renewed_at AS renewed, expires_at AS expires FROM ${o.schema}.leases WHERE id = $1`, [lease!.id]);
  assert.equal(first[0]!.expires.getTime() - first[0]!.renewed.getTime(), 600);
  // Renewed several times (every ttl/3): the lease outlives its first expiry.
  await until('two renewals', async () => {
    const rows = await admin<{ renewed: Date }>(`SELECT renewed_at AS renewed FROM ${o.schema}.leases WHERE id = $1`, [lease!.id]);
    return rows[0] !== undefined && rows[0].renewed.getTime() > first[0]!.expires.getTime();
  });
  await m.update('r', (b) => bump(b, 'r'));
  assert.equal(counter(m.build('r')), 1);
  await m.close();
  assert.deepEqual(await c.locks(), []);
});

pgTest('the holder\'s connections terminated (pg_terminate_backend): it reconnects, keeps its lease and writes on', async () => {
  const o = options();
  const holder = child(o);
  assert.ok((await holder.send({ cmd: 'lock', build: 't' })).id);
  assert.equal((await holder.send({ cmd: 'write', build: 't' })).ok, true);
  const killed = await admin<{ pid: number }>(
    `SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity WHERE application_name LIKE $1`,
    [`builder % pid ${holder.proc.pid}%`],
  );
  assert.ok(killed.length > 0, 'the holder had connections to terminate');
  const after1 = await holder.send({ cmd: 'write', build: 't' });
  assert.equal(after1.ok, true, JSON.stringify(after1));
  assert.equal(holder.proc.exitCode, null, 'the holder did not crash');
  const c = open(o);
  assert.equal((await c.locks()).length, 1, 'the lease survived');
  await holder.send({ cmd: 'exit' });
  const final = await StateManager.open({ client: open(o) });
  assert.equal(counter(final.build('t')), 2);
});

pgTest('the server restarted in the middle of a run: nothing lost, nothing applied twice, leases kept', async (t) => {
  const o = options();
  const writer = child(o);
  assert.ok((await writer.send({ cmd: 'lock', build: 'w' })).id);
  const n = 300;
  const loop = writer.send({ cmd: 'loop', build: 'w', n, pauseMs: 10 });
  const c = open(o);
  await until('the run to be under way', async () => ((await c.get())?.serial ?? 0) >= 10);
  await cluster().halt('fast');
  await cluster().start();
  const atRestart = (await c.get())?.serial ?? 0;
  const result = await loop;
  t.diagnostic(`serial after the restart ${atRestart}; writes that failed and were retried: ${result.errors ?? 0} ${JSON.stringify(result.failures)}; warnings: ${writer.stderr().trim()}`);
  assert.ok(atRestart < n, 'the restart happened while the run was under way');
  assert.equal(result.done, n, JSON.stringify(result));
  const final = await StateManager.open({ client: open(o) });
  assert.equal(counter(final.build('w')), n, `every increment exactly once (${result.errors ?? 0} failed attempts retried: ${JSON.stringify(result.failures)})`);
  assert.equal(final.serial, n);
  assert.equal((await c.locks()).filter((l) => l.scope === 'build').length, 1, 'the build lease is a row: it survived the restart');
  await writer.send({ cmd: 'exit' });
});

pgTest('the password is never in the location, lock info, messages or the state', async () => {
  const secret = 'pw-Secret-31337';
  const o = options();
  const url = o.url.replace('postgres@', `postgres:${secret}@`);
  const c = open({ ...o, url });
  assert.ok(!c.location.includes(secret));
  const m = await StateManager.open({ client: c });
  const lease = await m.lockBuild('p', 'build');
  await m.update('p', (b) => bump(b, 'p'));
  const other = await StateManager.open({ client: open({ ...o, url }) });
  const err = await other.lockBuild('p', 'build').catch((e: unknown) => e);
  assert.ok(err instanceof StateLockedError);
  const unreachable = open({ ...o, url: url.replace(/:\d+\//, ':1/'), connectTimeoutMs: 2000 });
  const failed = await unreachable.get().catch((e: unknown) => e);
  assert.ok(failed instanceof Error);
  const rows = await admin<{ t: string }>(`SELECT (SELECT json_agg(l)::text FROM ${o.schema}.leases l) || (SELECT json_agg(s)::text FROM ${o.schema}.states s) || (SELECT json_agg(h)::text FROM ${o.schema}.history h) AS t`);
  for (const text of [JSON.stringify(lease), err.message, failed.message, rows[0]!.t, JSON.stringify(m.snapshot())]) {
    assert.ok(!text.includes(secret), text);
  }
  assert.match(failed.message, /could not read the PostgreSQL state at postgres:\/\/postgres@127\.0\.0\.1:1\/postgres/);
  await m.close();
});

pgTest('history keeps previous versions: backup() and versionAt rebuild earlier serials', async () => {
  const o = options();
  const c = open(o);
  const m = await StateManager.open({ client: c });
  const seen = new Map<number, string>();
  for (let i = 0; i < 6; i++) {
    await m.update(`b${i % 2}`, (b) => bump(b, `b${i % 2}`));
    seen.set(m.serial, JSON.stringify(m.snapshot()));
  }
  await m.remove(['b0']);
  for (const [serial, text] of seen) assert.equal(JSON.stringify(await c.versionAt(serial)), text, `serial ${serial}`);
  assert.equal(JSON.stringify(await c.backup()), seen.get(6));
  const restored = await c.backup();
  assert.equal(await m.replace(restored!, { force: false }).catch(() => 'refused'), 'refused', 'an older serial is refused without -force');
  assert.equal(await m.replace(restored!, { force: true }), true);
  assert.equal(m.serial, 8);
  assert.equal(counter(m.build('b0')), 3);
  assert.deepEqual((await c.versions()).map((v) => v.serial), [1, 2, 3, 4, 5, 6, 7, 8]);
});

pgTest('rows: step lists that shrink and grow, removed builds, non-durable changes and field order read back exactly', async () => {
  const o = options();
  const m = await StateManager.open({ client: open(o), template: 't' });
  await m.update('a', () => completeBuild('a', 4));
  await m.update('b', () => completeBuild('b', 2));
  await m.update('a', (d) => void d!.provisioners.splice(1, 2));
  await m.updateStep('b', 'provisioners', 1, (s) => void (s.status = 'running'), { durable: false });
  await m.update('b', (d) => void d!.post_processors.push({ ...d!.post_processors[0]!, name: 'second' }));
  await m.update('c', () => completeBuild('c', 1));
  await m.remove(['a']);
  await m.update('a', () => completeBuild('a', 1));
  await m.setTemplate({ path: 't', hash: 'h', variables: { zeta: 1, alpha: { y: 2, b: 3 } }, files: { 'z.sh': '1', 'a.sh': '2' } });
  const fresh = await open(o).get();
  assert.equal(JSON.stringify(fresh), JSON.stringify(m.snapshot()), 'same content, same field and key order');
  assert.deepEqual(Object.keys(fresh!.builds), ['t/b', 't/c', 't/a']);
  const steps = await admin<{ n: string }>(`SELECT count(*)::text AS n FROM ${o.schema}.steps`);
  assert.equal(Number(steps[0]!.n), 4 + 2 + 2, 'no step row left behind by a shorter list or a removed build');
});
