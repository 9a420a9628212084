/**
 * The write lease and optimistic puts exclude each other on PostgreSQL (src/state/postgres/client.ts
 * putChanges, leases.ts tryWrite), reproduced deterministically against a real server:
 * - An optimistic checkpoint (a put without the write lease) is held, by a trigger waiting on an
 *   advisory lock the test holds, after its statement checked the write lease and before it
 *   commits. Another client then takes the write lease, reads the state and writes: taking the
 *   lease must wait for the in-flight put, so the locked writer reads the put's version and its
 *   write meets no STATE_CONFLICT. Both with the workspace's lease row released (its normal state
 *   between writes) and with no lease row at all (a state written before any write lock was taken).
 * - One client holding the write lease for one of its users while another of its users checkpoints
 *   optimistically: the optimistic put is refused until the lease is released (the client's own
 *   lease does not let it through), so the lease holder's write meets no STATE_CONFLICT either.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { StateManager } from '../../src/state/manager.js';
import { createPostgresClient, type PostgresStateClient } from '../../src/state/postgres/client.js';
import type { StateChange, StateClient } from '../../src/state/interfaces.js';
import { postgresTestFile, until } from '../helpers/postgres.js';
import { bump, counter } from './helpers/counters.js';

const clients: PostgresStateClient[] = [];
const admins: pg.Client[] = [];
const { cluster, pgTest } = postgresTestFile(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all(admins.map((a) => a.end().catch(() => undefined)));
});
let schemas = 0;
/** The advisory lock key the trigger waits on (nothing else in builder takes advisory locks). */
const HOLD = 7_340_511;

function open(schema: string, who: string): PostgresStateClient {
  const c = createPostgresClient(cluster().url, { schema, holder: { who } });
  clients.push(c);
  return c;
}

async function admin(): Promise<pg.Client> {
  const a = new pg.Client({ connectionString: cluster().url });
  a.on('error', () => undefined);
  await a.connect();
  admins.push(a);
  return a;
}

/** What the backend of the client whose holder is `who` (its application_name) is waiting for. */
async function waits(a: pg.Client, who: string): Promise<string[]> {
  const r = await a.query<{ w: string }>(
    `SELECT wait_event_type || '/' || wait_event AS w FROM pg_stat_activity WHERE application_name LIKE $1 AND state = 'active' AND wait_event_type = 'Lock'`,
    [`builder ${who} %`],
  );
  return r.rows.map((row) => row.w);
}

/** A state of one build, written by a manager of its own (serial 1). */
async function seed(schema: string): Promise<void> {
  const m = await StateManager.open({ client: open(schema, 'seeder') });
  await m.update('a', (b) => bump(b, 'a'));
  await m.close();
}

/** Tracks whether a promise settled. */
function watch<T>(p: Promise<T>): { p: Promise<T>; settled: () => boolean } {
  let done = false;
  const q = p.finally(() => (done = true));
  q.catch(() => undefined);
  return { p: q, settled: () => done };
}

for (const row of ['released', 'missing'] as const) {
  pgTest(`a write lease taken while an optimistic put is in flight waits for it (lease row ${row}): the locked writer meets no conflict`, async () => {
    const schema = `race_${++schemas}`;
    await seed(schema);
    const a = await admin();
    if (row === 'missing') await a.query(`DELETE FROM ${schema}.write_leases`); // as a state written before any write lock
    // Holds the optimist's update of the state row: its statement has checked the write lease by then.
    await a.query(
      `CREATE FUNCTION ${schema}.hold() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF current_setting('application_name') LIKE 'builder optimist %' THEN PERFORM pg_advisory_xact_lock(${HOLD}); END IF; RETURN NEW; END $$`,
    );
    await a.query(`CREATE TRIGGER hold BEFORE UPDATE ON ${schema}.states FOR EACH ROW EXECUTE FUNCTION ${schema}.hold()`);
    await a.query('SELECT pg_advisory_lock($1)', [HOLD]);
    let held = true;
    try {
      const optimist = await StateManager.open({ client: open(schema, 'optimist') });
      const taker = open(schema, 'taker');
      await taker.locks(); // connected, schema checked: what follows is the race alone
      const put = watch(optimist.update('a', (b) => bump(b, 'a')));
      await until('the optimistic put to be held in its statement, or to end', async () => put.settled() || (await waits(a, 'optimist')).includes('Lock/advisory'));
      const lease = watch(taker.lock({ scope: 'write', operation: 'race', timeoutMs: 0 }));
      await until('the write lease to be taken, or its taking to wait for a lock', async () => lease.settled() || (await waits(a, 'taker')).length > 0);
      const takenFirst = lease.settled();
      // With the race: the lease is held while the optimistic put has not committed, and the
      // locked writer reads the version before it.
      const early = takenFirst ? await taker.get() : undefined;
      await a.query('SELECT pg_advisory_unlock($1)', [HOLD]);
      held = false;
      const outcome = await put.p.then(
        () => 'committed',
        (err: unknown) => (err as { code?: string }).code ?? String(err),
      );
      const info = await lease.p;
      const state = early ?? (await taker.get());
      assert.ok(state);
      const record = bump(undefined, 'b');
      state.builds.b = record;
      state.serial += 1;
      const change: StateChange = { builds: { b: record } };
      await assert.doesNotReject(taker.put(state, [change]), 'the writer holding the write lease meets no conflict');
      await taker.unlock(info.id);
      assert.equal(takenFirst, false, 'taking the write lease waited for the optimistic put in flight');
      const final = await StateManager.open({ client: open(schema, 'reader') });
      if (outcome === 'committed') {
        assert.equal(counter(final.build('a')), 2);
        assert.equal(final.serial, 3, 'the optimistic put and the locked write, one serial each');
      } else {
        assert.fail(`the optimistic put did not commit: ${outcome}`);
      }
      assert.equal(counter(final.build('b')), 1);
    } finally {
      if (held) await a.query('SELECT pg_advisory_unlock($1)', [HOLD]).catch(() => undefined);
    }
  });
}

pgTest("an optimistic put of one user of a client is refused while another user of that client holds the write lease", async () => {
  const schema = `race_${++schemas}`;
  await seed(schema);
  const c = open(schema, 'shared');
  let refusals = 0;
  // A second user of the same client (another manager), counting its refused puts.
  const user: StateClient = {
    location: c.location,
    optimisticPuts: true,
    get: () => c.get(),
    refresh: (known) => c.refresh(known),
    put: async (state, changes, options) => {
      try {
        await c.put(state, changes, options);
      } catch (err) {
        refusals++;
        throw err;
      }
    },
    lock: (request) => c.lock(request),
    unlock: (id) => c.unlock(id),
    locks: () => c.locks(),
    delete: () => c.delete(),
  };
  const optimist = await StateManager.open({ client: user });
  const info = await c.lock({ scope: 'write', operation: 'race', timeoutMs: 0 });
  const state = await c.get();
  assert.ok(state);
  const put = watch(optimist.update('a', (b) => bump(b, 'a')));
  await until('the optimistic put to be refused, or to commit', async () => refusals > 0 || put.settled());
  assert.equal(put.settled(), false, "the optimistic put did not commit while its client's write lease was held for another user");
  const record = bump(undefined, 'b');
  state.builds.b = record;
  state.serial += 1;
  await assert.doesNotReject(c.put(state, [{ builds: { b: record } }]), 'the lease holder meets no conflict');
  await c.unlock(info.id);
  await put.p;
  const final = await StateManager.open({ client: open(schema, 'reader') });
  assert.equal(counter(final.build('a')), 2);
  assert.equal(counter(final.build('b')), 1);
  assert.equal(final.serial, 3);
});
