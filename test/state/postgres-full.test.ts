/**
 * A full database (issue 11): the state's tables on a tablespace in a 2 MiB tmpfs, filled by a
 * real write until PostgreSQL fails with `disk_full` (53100). A `state push` that does not fit
 * and a build whose checkpoints cannot be written each end in one clear message (what, where,
 * what next; no stack trace), and the previous state is intact. Mounting a tmpfs needs root and
 * the right to mount; where that is refused the same checks run with a trigger that raises
 * `disk_full` on every write of the state (the error PostgreSQL raises when a file cannot grow).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { StateFile } from '../../src/state/types.js';
import { postgresTestFile } from '../helpers/postgres.js';
import { nullShellLocal } from '../helpers/templates.js';
import { expectExit, inWorkdir, runCli, type Workdir } from '../stateful/semantics-helpers.js';

let mounted: string | undefined;
const { cluster, pgTest } = postgresTestFile(async () => {
  if (mounted) {
    try {
      execFileSync('umount', [mounted], { stdio: 'ignore' });
    } catch {
      // the cluster still uses it: unmounted after it stops, below
    }
  }
});
process.once('exit', () => {
  if (!mounted) return;
  try {
    execFileSync('umount', ['-l', mounted], { stdio: 'ignore' });
  } catch {
    // already unmounted once the cluster stopped
  }
  try {
    rmSync(mounted, { recursive: true, force: true });
  } catch {
    // best effort
  }
});

function postgresIds(): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === 'postgres') return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** A 2 MiB tmpfs the postgres user owns, or why there is none. */
function tinyDisk(): string | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'builder-pg-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})` };
  }
  mounted = dir;
  const ids = process.getuid?.() === 0 ? postgresIds() : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  mkdirSync(join(dir, 'ts'));
  if (ids) chownSync(join(dir, 'ts'), ids.uid, ids.gid);
  return join(dir, 'ts');
}

const TEMPLATE = (text: string): string => nullShellLocal([`echo ${text} >> steps.log`]);

/** A state `base` grown by `n` builds of incompressible text (about 2 KiB each). */
function bigger(base: StateFile, n: number): string {
  const grown = structuredClone(base) as StateFile & { checksum?: string };
  delete grown.checksum;
  grown.serial = base.serial + 1;
  const rec = Object.values(base.builds)[0]!;
  for (let i = 0; i < n; i++) grown.builds[`t.pkr.hcl/null.filler-${i}`] = { ...structuredClone(rec), name: `filler-${i}`, error: randomBytes(1024).toString('hex') };
  return JSON.stringify(grown);
}

async function checkFull(w: Workdir, url: string, fill: () => Promise<void>): Promise<void> {
  const state = `-state=${url}`;
  const pull = async (): Promise<StateFile> => {
    const r = await runCli(['state', 'pull', state], w.dir);
    expectExit(r, 0);
    return JSON.parse(r.stdout) as StateFile;
  };
  await w.write('t.pkr.hcl', TEMPLATE('one'));
  expectExit(await w.build(state, 't.pkr.hcl'), 0);
  const before = await pull();
  await fill();

  await w.write('big.json', bigger(before, 3000));
  const push = await runCli(['state', 'push', state, 'big.json'], w.dir);
  expectExit(push, 1);
  assert.match(push.stderr, /could not write the PostgreSQL state at postgres:\/\/[^ ]+: .*\(53100\)\. The database server is out of disk space; nothing was written, the previous state is intact\. Free some space and run the command again\.\n\[BLD\d+\]/);
  assert.doesNotMatch(push.stderr, /\n\s+at |Internal error/, 'no stack trace');
  assert.deepEqual(await pull(), before, 'the refused push changed nothing');

  await w.write('t.pkr.hcl', TEMPLATE('two'));
  const build = await w.build(state, 't.pkr.hcl');
  expectExit(build, 1);
  assert.match(build.stdout + build.stderr, /out of disk space/);
  assert.doesNotMatch(build.stdout + build.stderr, /\n\s+at |Internal error/, 'no stack trace');
  const after = await pull();
  assert.equal(after.lineage, before.lineage);
  assert.deepEqual(after.builds, before.builds, 'the build record is as the last successful write left it');
}

pgTest('a database out of disk space (a tablespace on a 2 MiB tmpfs): one clear message, the previous state intact', async (t) => {
  const disk = tinyDisk();
  if (typeof disk !== 'string') return void t.skip(disk.skip);
  const admin = new pg.Client({ connectionString: cluster().url });
  await admin.connect();
  try {
    await admin.query(`CREATE TABLESPACE tiny LOCATION '${disk}'`);
    await admin.query('CREATE DATABASE fulldb');
    await admin.query('ALTER DATABASE fulldb SET default_tablespace = tiny');
  } finally {
    await admin.end();
  }
  const url = cluster().url.replace(/\/postgres$/, '/fulldb');
  await inWorkdir((w) => checkFull(w, url, async () => undefined));
});

pgTest('a database that answers disk_full (53100) to every write: one clear message, the previous state intact', async () => {
  const url = cluster().url.replace(/\/postgres$/, '/triggerdb');
  const admin = new pg.Client({ connectionString: cluster().url });
  await admin.connect();
  await admin.query('CREATE DATABASE triggerdb').finally(() => admin.end());
  await inWorkdir((w) =>
    checkFull(w, url, async () => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        await db.query(`CREATE FUNCTION public.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full'; END $$`);
        for (const table of ['states', 'builds', 'steps', 'history']) {
          await db.query(`CREATE TRIGGER full_${table} BEFORE INSERT OR UPDATE ON builder_state.${table} FOR EACH ROW EXECUTE FUNCTION public.disk_full()`);
        }
      } finally {
        await db.end();
      }
    }),
  );
});
