/**
 * The PostgreSQL backend through PgBouncer in transaction mode with two server connections shared
 * by every client (nothing may depend on session state): writers in two clients lose no update,
 * a build lease excludes another client and is broken by id, the fence refuses a lapsed holder,
 * and shared-run claims never hand out a build twice.
 */
import assert from 'node:assert/strict';
import { StateLockedError } from '../../src/state/errors.js';
import { StateManager } from '../../src/state/manager.js';
import { createPostgresClient, StateLeaseLostError, type PostgresStateClient } from '../../src/state/postgres/client.js';
import { postgresTestFile, startPgBouncer } from '../helpers/postgres.js';
import { bump, counter } from './helpers/counters.js';
import { waitForLocks } from './helpers/postgres-backend.js';

const clients: PostgresStateClient[] = [];
let bouncer: { url: string; stop(): Promise<void> } | undefined;
const { cluster, pgTest } = postgresTestFile(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await bouncer?.stop();
});

function open(url: string): PostgresStateClient {
  const c = waitForLocks(createPostgresClient(url, { schema: 'bounced', leaseTtlMs: 20_000 }));
  clients.push(c);
  return c;
}

pgTest('through PgBouncer in transaction mode: writes, leases, fencing and claims', async (t) => {
  const b = await startPgBouncer(cluster());
  if ('skip' in b) return t.skip(b.skip);
  bouncer = b;
  const one = await StateManager.open({ client: open(b.url) });
  const two = await StateManager.open({ client: open(b.url) });
  await Promise.all(
    [one, two].map(async (m, i) => {
      for (let k = 0; k < 25; k++) {
        await m.update('shared', (x) => bump(x, 'shared'));
        await m.update(`own${i}`, (x) => bump(x, `own${i}`));
      }
    }),
  );
  const check = await StateManager.open({ client: open(b.url) });
  assert.equal(counter(check.build('shared')), 50);
  assert.equal(check.serial, 100);

  const lease = await one.lockBuild('web', 'build');
  await assert.rejects(two.lockBuild('web', 'build'), StateLockedError);
  await two.unlock(lease!.id);
  assert.ok(await two.lockBuild('web', 'takeover'));
  await assert.rejects(one.update('web', (x) => bump(x, 'web')), StateLeaseLostError);
  await two.update('web', (x) => bump(x, 'web'));

  const runners = [open(b.url), open(b.url), open(b.url)];
  const claimed: string[] = [];
  const candidates = Array.from({ length: 12 }, (_, i) => `c${i}`);
  await Promise.all(
    runners.map(async (r) => {
      await r.joinRun('run', 'h');
      for (let c = await r.claimBuild('run', candidates); c; c = await r.claimBuild('run', candidates)) {
        claimed.push(c.build);
        assert.equal(await r.finishBuild('run', c, 'done'), true);
      }
    }),
  );
  assert.deepEqual([...claimed].sort(), [...candidates].sort());
});
