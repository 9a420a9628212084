/**
 * Faults of the PostgreSQL backend's connection and database (one throwaway cluster): a
 * connection black-holed by a loopback TCP proxy that stops forwarding — past the lease's TTL the
 * holder's writes are refused, before it they go through once the network is back — and a
 * database gone read-only. After each: nothing lost, nothing applied twice, the state loads.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { StateManager } from '../../src/state/manager.js';
import { createPostgresClient, StateLeaseLostError, type PostgresStateClient } from '../../src/state/postgres/client.js';
import { postgresTestFile, until } from '../helpers/postgres.js';
import { bump, counter } from './helpers/counters.js';

const clients: PostgresStateClient[] = [];
const proxies: Server[] = [];
const { cluster, pgTest } = postgresTestFile(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const p of proxies) p.close();
});
let schemas = 0;

/** A TCP proxy on 127.0.0.1 to the cluster; `blackhole(true)` stops forwarding in both directions (sockets stay open). */
async function proxy(): Promise<{ port: number; blackhole(on: boolean): void }> {
  let holed = false;
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(cluster().port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.on('data', (d) => void (!holed && outbound.write(d)));
    outbound.on('data', (d) => void (!holed && inbound.write(d)));
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  proxies.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, blackhole: (on) => void (holed = on) };
}

function open(url: string, schema: string, extra: Partial<Parameters<typeof createPostgresClient>[1]> = {}): PostgresStateClient {
  const c = createPostgresClient(url, { schema, leaseTtlMs: 20_000, ...extra });
  clients.push(c);
  return c;
}

async function admin(...statements: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: cluster().url });
  c.on('error', () => undefined);
  await c.connect();
  for (const sql of statements) await c.query(sql);
  await c.end();
}

pgTest('a black-holed connection: the holder loses its lease past the TTL and its writes are refused; the takeover\'s are kept', async () => {
  const schema = `faults_${++schemas}`;
  const p = await proxy();
  const viaProxy = cluster().url.replace(`:${cluster().port}/`, `:${p.port}/`);
  const warnings: string[] = [];
  const holder = open(viaProxy, schema, { leaseTtlMs: 1500, queryTimeoutMs: 500, connectTimeoutMs: 500, onWarning: (w) => warnings.push(w) });
  const m = await StateManager.open({ client: holder });
  assert.ok(await m.lockBuild('n', 'build'));
  await m.update('n', (b) => bump(b, 'n'));
  p.blackhole(true);
  const direct = open(cluster().url, schema);
  await until('the holder\'s lease to expire on the server', async () => (await direct.locks()).length === 0);
  const takeover = await StateManager.open({ client: direct });
  assert.ok(await takeover.lockBuild('n', 'takeover'));
  await takeover.update('n', (b) => bump(b, 'n'));
  p.blackhole(false);
  await assert.rejects(m.update('n', (b) => bump(b, 'n')), StateLeaseLostError);
  assert.ok(warnings.some((w) => /lost the lock of build "n"/.test(w)), warnings.join('\n'));
  const final = await StateManager.open({ client: open(cluster().url, schema) });
  assert.equal(counter(final.build('n')), 2);
  assert.equal(final.serial, 2);
});

pgTest('a short black hole within the TTL: the holder\'s write goes through once the network is back, exactly once', async () => {
  const schema = `faults_${++schemas}`;
  const p = await proxy();
  const viaProxy = cluster().url.replace(`:${cluster().port}/`, `:${p.port}/`);
  const holder = open(viaProxy, schema, { leaseTtlMs: 60_000, queryTimeoutMs: 300, connectTimeoutMs: 300 });
  const m = await StateManager.open({ client: holder });
  assert.ok(await m.lockBuild('s', 'build'));
  await m.update('s', (b) => bump(b, 's'));
  p.blackhole(true);
  const pending = m.update('s', (b) => bump(b, 's'));
  setTimeout(() => p.blackhole(false), 400);
  await pending;
  const final = await StateManager.open({ client: open(cluster().url, schema) });
  assert.equal(counter(final.build('s')), 2);
  assert.equal(final.serial, 2);
});

pgTest('a read-only database: the write fails with one clear message, the state stays as it was and loads', async () => {
  const schema = `faults_${++schemas}`;
  const m = await StateManager.open({ client: open(cluster().url, schema) });
  await m.update('r', (b) => bump(b, 'r'));
  await admin(`ALTER DATABASE postgres SET default_transaction_read_only = on`);
  try {
    const ro = await StateManager.open({ client: open(cluster().url, schema) });
    await assert.rejects(ro.update('r', (b) => bump(b, 'r')), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'STATE_PG_FAILED');
      assert.match((err as Error).message, /read-only transaction \(25006\)\. The database is read-only/);
      assert.doesNotMatch((err as Error).message, /\n\s+at /, 'no stack trace');
      return true;
    });
    assert.equal(counter(ro.build('r')), 1);
  } finally {
    await admin('SET default_transaction_read_only = off', 'ALTER DATABASE postgres SET default_transaction_read_only = off');
  }
  const final = await StateManager.open({ client: open(cluster().url, schema) });
  assert.equal(counter(final.build('r')), 1);
  assert.equal(final.serial, 1);
});

pgTest('schema: created on first use; skip_schema_creation refuses a missing one; a newer one is refused; names are checked', async () => {
  const url = cluster().url;
  const missing = open(url, 'not_there', { skipSchemaCreation: true });
  await assert.rejects(missing.get(), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'STATE_PG_SCHEMA_MISSING');
    assert.match((err as Error).message, /schema "not_there" .* is missing, and schema creation is turned off/);
    return true;
  });
  const m = await StateManager.open({ client: open(url, 'not_there') });
  await m.update('a', (b) => bump(b, 'a'));
  const locked = await StateManager.open({ client: open(url, 'not_there', { skipSchemaCreation: true }) });
  assert.equal(counter(locked.build('a')), 1, 'an existing schema is used as it is');
  await admin('INSERT INTO not_there.schema_migrations (version) VALUES (99)');
  await assert.rejects(open(url, 'not_there').get(), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'STATE_PG_SCHEMA_NEWER');
    assert.match((err as Error).message, /at version 99, newer than this builder knows/);
    return true;
  });
  assert.throws(() => open(url, 'x"; DROP TABLE y; --'), (err: unknown) => (err as { code?: string }).code === 'STATE_PG_SCHEMA_NAME');
});
