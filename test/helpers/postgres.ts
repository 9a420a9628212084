/**
 * A throwaway PostgreSQL cluster for tests, never the system one: a data folder made by `initdb`
 * (as the `postgres` user when running as root, since initdb refuses root) in a temp folder owned
 * by that user, started by `pg_ctl` on a free port on 127.0.0.1 with its socket in the same
 * folder, and stopped and removed by `stop()` (or at exit).
 *
 * initdb takes seconds on a loaded machine, so its result is kept once per machine as a template
 * (/tmp/builder-pg-template-VERSION) and each cluster starts from a copy of it.
 *
 * Usage:
 *   const pg = await startPostgres();
 *   if ('skip' in pg) return t.skip(pg.skip);
 *   try { … pg.url … } finally { await pg.stop(); }
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';

const ROOT = '/usr/lib/postgresql';

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, no password). */
  url: string;
  port: number;
  dir: string;
  /** The postmaster's pid (read from postmaster.pid). */
  pid(): number;
  /** pg_ctl stop with this mode (the cluster and its files stay). */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

/** The newest installed server's bin folder, or undefined. */
export function postgresBin(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb')) && existsSync(join(ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(ROOT, versions[0], 'bin') : undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresSkipReason(): string | undefined {
  if (!postgresBin()) return `PostgreSQL server binaries not found under ${ROOT} (apt-get install postgresql)`;
  if (process.getuid?.() === 0 && !userIds('postgres')) return 'running as root and there is no "postgres" user to run initdb as';
  return undefined;
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** Runs a server binary, as `postgres` when we are root. */
function run(bin: string, args: string[]): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const file = asRoot ? '/usr/sbin/runuser' : bin;
  const argv = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${bin} ${args.join(' ')} failed: ${stderr || stdout || err.message}`)) : resolve(stdout),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function ownedTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const ids = process.getuid?.() === 0 ? userIds('postgres') : undefined;
  if (ids) await chown(dir, ids.uid, ids.gid);
  return dir;
}

/** The initdb'd template data folder (made once per machine). */
async function template(bin: string): Promise<string> {
  const version = bin.split('/').at(-2) ?? 'x';
  const path = join(tmpdir(), `builder-pg-template-${version}`);
  if (existsSync(join(path, 'PG_VERSION'))) return path;
  const work = await ownedTempDir('builder-pg-initdb-');
  const data = join(work, 'data');
  await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  try {
    renameSync(data, path); // another test file may have won the race: then use its template
  } catch {
    // kept theirs
  }
  rmSync(work, { recursive: true, force: true });
  return path;
}

const running = new Set<string>();
process.once('exit', () => {
  const bin = postgresBin();
  for (const data of running) {
    if (bin) spawnSync(process.getuid?.() === 0 ? '/usr/sbin/runuser' : join(bin, 'pg_ctl'), process.getuid?.() === 0 ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'] : ['-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore' });
  }
});

/** `durable`: fsync on (benchmarks); tests run with fsync off, which changes no behaviour they check. */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PgCluster | { skip: string }> {
  const reason = postgresSkipReason();
  if (reason) return { skip: reason };
  const bin = postgresBin()!;
  const source = await template(bin);
  const dir = await ownedTempDir('builder-pg-');
  const data = join(dir, 'data');
  await run('/bin/cp', ['-a', source, data]);
  const port = await freePort();
  const pgCtl = join(bin, 'pg_ctl');
  const start = async (): Promise<void> => {
    await run(pgCtl, ['-w', '-t', '60', '-D', data, '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${options.durable ? 'on' : 'off'}`, 'start']);
    running.add(data);
  };
  const halt = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await run(pgCtl, ['-w', '-D', data, '-m', mode, 'stop']);
    running.delete(data);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    halt,
    start,
    stop: async () => {
      if (running.has(data)) await halt('fast').catch(() => halt('immediate'));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One cluster for the calling test file, started before its tests and stopped after them, and a
 * `pgTest` that is skipped with the reason when PostgreSQL is not installed. `onStop` runs just
 * before the cluster stops (close clients, kill children).
 */
export function postgresTestFile(onStop: () => Promise<void> = async () => undefined): {
  cluster: () => PgCluster;
  pgTest: (name: string, body: (t: TestContext) => Promise<void>) => void;
} {
  const reason = postgresSkipReason();
  let cluster: PgCluster | undefined;
  before(async () => {
    if (reason) return;
    const c = await startPostgres();
    if ('skip' in c) throw new Error(c.skip);
    cluster = c;
  });
  after(async () => {
    await onStop();
    await cluster?.stop();
  });
  return {
    cluster: () => {
      if (!cluster) throw new Error('the PostgreSQL cluster is not running');
      return cluster;
    },
    pgTest: (name, body) =>
      test(name, async (t) => {
        if (reason) return t.skip(reason);
        await body(t);
      }),
  };
}

/** Resolves once `check` is true, polling (no timed assertion: gives up only after about a minute). */
export async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (i > 2400) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const PGBOUNCER = '/usr/sbin/pgbouncer';

/**
 * PgBouncer in transaction mode in front of `cluster`, on a free port on 127.0.0.1, with a pool of
 * `poolSize` server connections (so clients' transactions share them), no extra startup
 * parameters allowed. Skipped with the reason when pgbouncer is not installed.
 */
export async function startPgBouncer(cluster: PgCluster, poolSize = 2): Promise<{ url: string; stop(): Promise<void> } | { skip: string }> {
  if (!existsSync(PGBOUNCER)) return { skip: `${PGBOUNCER} not installed (apt-get install pgbouncer)` };
  const dir = await ownedTempDir('builder-pgbouncer-');
  const port = await freePort();
  await writeFile(join(dir, 'userlist.txt'), '"postgres" ""\n');
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    `[databases]\npostgres = host=127.0.0.1 port=${cluster.port} dbname=postgres\n` +
      `[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ${port}\nunix_socket_dir =\nauth_type = trust\n` +
      `auth_file = ${join(dir, 'userlist.txt')}\npool_mode = transaction\ndefault_pool_size = ${poolSize}\n` +
      `max_client_conn = 200\nlogfile = ${join(dir, 'pgbouncer.log')}\n`,
  );
  const asRoot = process.getuid?.() === 0;
  const child = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (i > 200 || child.exitCode !== null) {
      child.kill('SIGKILL');
      const log = existsSync(join(dir, 'pgbouncer.log')) ? readFileSync(join(dir, 'pgbouncer.log'), 'utf8') : '';
      throw new Error(`pgbouncer did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
