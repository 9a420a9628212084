/**
 * PostgreSQL state backend benchmark (`npm run bench -- postgres`), against the file backend in
 * the same run, on a throwaway cluster with fsync on (test/helpers/postgres.ts, `durable`):
 *
 * - one checkpoint through StateManager, as a build makes them: a step's record
 *   (`updateStep`, the start/end of a step) and a whole build record (`update`), each durable and
 *   with the write lock taken and released, on a 100-build and a 10,000-build state; the same
 *   with a build lease held (the write is fenced on two leases);
 * - the write lock alone (acquire + release), and one bare round trip (`SELECT 1`) for scale: a
 *   checkpoint through the manager is four round trips (write lock, refresh, the put statement,
 *   unlock), so on a loaded machine it costs about four times the queueing of one.
 * Median and p99 of each (wall milliseconds); the load average is printed with the table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FileStateClient } from '../src/state/file/client.js';
import type { StateClient } from '../src/state/interfaces.js';
import { StateManager, newState } from '../src/state/manager.js';
import { createPostgresClient } from '../src/state/postgres/client.js';
import type { StateFile } from '../src/state/types.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { completeBuild } from '../test/state/helpers/fixtures.js';
import { loadAverage } from './common.js';

function stateOf(n: number): StateFile {
  const s = newState();
  s.serial = 1;
  for (let i = 0; i < n; i++) s.builds[`build-${i}.null.s`] = completeBuild(`build-${i}`, 2);
  return s;
}

function quantile(xs: number[], q: number): number | undefined {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

async function time(runs: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(20, runs); i++) await fn(i); // warm-up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

interface Row {
  workload: string;
  pg: number[];
  file: number[];
}

const rows: Row[] = [];
const cluster = await startPostgres({ durable: true });
if ('skip' in cluster) {
  process.stdout.write(`skipped: ${cluster.skip}\n`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'builder-bench-pg-'));
const opened: { close(): Promise<void> }[] = [];
try {
  let schema = 0;
  const backends = {
    pg: (): StateClient => {
      const c = createPostgresClient(cluster.url, { schema: `bench_${++schema}` });
      opened.push(c);
      return c;
    },
    file: (): StateClient => new FileStateClient({ path: join(dir, `state-${++schema}.json`) }),
  };
  const measure = async (workload: string, runs: number, body: (make: () => StateClient) => Promise<number[]>): Promise<void> => {
    rows.push({ workload, pg: await body(backends.pg), file: await body(backends.file) });
  };

  {
    // The floor: one round trip to the server on this machine at this load.
    const pool = new pg.Pool({ connectionString: cluster.url, max: 1 });
    pool.on('error', () => undefined);
    rows.push({ workload: 'one round trip (SELECT 1), for scale', pg: await time(500, () => pool.query('SELECT 1')), file: [] });
    await pool.end();
  }
  await measure('write lock acquire + release', 500, async (make) => {
    const c = make();
    return time(500, async () => c.unlock!((await c.lock!({ scope: 'write', operation: 'bench', timeoutMs: 0 })).id));
  });

  for (const n of [100, 10_000]) {
    const label = n === 100 ? '100' : '10,000';
    const open = async (make: () => StateClient): Promise<StateManager> => {
      const client = make();
      await client.put(stateOf(n));
      return StateManager.open({ client });
    };
    await measure(`checkpoint: one step record, ${label}-build state`, 500, async (make) => {
      const m = await open(make);
      const r = await time(500, (i) => m.updateStep(`build-${i % n}.null.s`, 'provisioners', i % 2, (s) => void (s.status = s.status === 'running' ? 'complete' : 'running')));
      await m.close();
      return r;
    });
    await measure(`checkpoint: one build record, ${label}-build state`, 300, async (make) => {
      const m = await open(make);
      const r = await time(300, (i) => m.update(`build-${i % n}.null.s`, (b) => void (b!.error = b!.error === '' ? 'x' : '')));
      await m.close();
      return r;
    });
    await measure(`checkpoint: one step record, build lease held, ${label}-build state`, 300, async (make) => {
      const m = await open(make);
      await m.lockBuild('build-0.null.s', 'bench');
      const r = await time(300, (i) => m.updateStep('build-0.null.s', 'provisioners', i % 2, (s) => void (s.status = s.status === 'running' ? 'complete' : 'running')));
      await m.close();
      return r;
    });
  }
} finally {
  await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(2));
process.stdout.write(`\nLoad average after the run: ${loadAverage()} (2 cores); PostgreSQL with fsync on, synchronous_commit on; file backend with fdatasync\n`);
process.stdout.write('\n| workload | PostgreSQL median ms | PostgreSQL p99 ms | file median ms | file p99 ms |\n|---|---|---|---|---|\n');
for (const r of rows) {
  process.stdout.write(`| ${r.workload} | ${fmt(quantile(r.pg, 0.5))} | ${fmt(quantile(r.pg, 0.99))} | ${fmt(quantile(r.file, 0.5))} | ${fmt(quantile(r.file, 0.99))} |\n`);
}
