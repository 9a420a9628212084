/**
 * The PostgreSQL backend passes the shared backend conformance suite, unchanged: one throwaway
 * cluster for this file (test/helpers/postgres.ts), a fresh schema per test.
 */
import { after, before, test } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { postgresSkipReason, startPostgres, type PgCluster } from '../helpers/postgres.js';
import { runBackendConformance } from './conformance.js';
import { createPgClient } from './helpers/postgres-backend.js';

const moduleUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'postgres-backend.js')).href;

const skip = postgresSkipReason();
let cluster: PgCluster | { skip: string } | undefined;
before(async () => {
  if (!skip) cluster = await startPostgres();
});
after(async () => {
  if (cluster && !('skip' in cluster)) await cluster.stop();
});

let n = 0;
const opened: { close(): Promise<void> }[] = [];

if (skip) {
  test('postgres backend conformance', (t) => t.skip(skip));
} else {
  runBackendConformance('postgres', async () => {
    if (!cluster || 'skip' in cluster) throw new Error(`no PostgreSQL: ${cluster ? cluster.skip : 'not started'}`);
    const options = { url: cluster.url, schema: `conformance_${++n}`, leaseTtlMs: 20_000 };
    const url = cluster.url;
    return {
      open: async () => {
        const c = createPgClient(options);
        opened.push(c);
        return c;
      },
      spec: { module: moduleUrl, export: 'createPgClient', args: [options] },
      cleanup: async () => {
        await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
        const admin = new pg.Client({ connectionString: url });
        admin.on('error', () => undefined);
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${options.schema} CASCADE`);
        await admin.end();
      },
    };
  });
}
