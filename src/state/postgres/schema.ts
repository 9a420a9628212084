/**
 * The PostgreSQL backend's tables, created on first use in their own schema (default
 * `builder_state`) and versioned like the file format: one migration per version, applied in
 * order inside one transaction, recorded in `<schema>.schema_migrations`. A database whose schema
 * is newer than this builder knows is refused; with `skipSchemaCreation` nothing is created and a
 * missing or older schema is an error naming what to do.
 *
 * Records are stored as `json`, not `jsonb`: the text is kept as written, so field order (and the
 * order of user maps such as variables and instance metadata) reads back as it was, and no time
 * is spent converting; nothing queries inside them.
 *
 * Every row belongs to a workspace (`-workspace`), so several states share one schema. Nothing
 * depends on session state (no session advisory locks, no SET, no prepared statement names), so
 * a pooler in transaction mode (PgBouncer) works: mutual exclusion uses row locks inside one
 * transaction, and leases are rows.
 *
 * Version 1:
 * - workspaces(name): one row per workspace, created on first use; its row lock serialises
 *   the taking of build and state leases of that workspace.
 * - states(workspace): lineage, serial, format version, the per-template records (column
 *   `template`), last_run of the state.
 * - builds(workspace, key): a build record without its step lists; `position` keeps the order.
 * - steps(workspace, build, list, index): one step record (a checkpoint writes one of these).
 * - history(workspace, serial, kind): every change by serial (kind `change`, a StateChange), and
 *   whole versions (kind `whole`, written by whole puts and compactions), so a previous serial can
 *   be rebuilt and restored, and a reader can catch up by applying what changed since it read.
 * - leases: build and state lock rows (holder, token from the `lease_tokens` sequence, expiry on
 *   the server's clock). write_leases: one row per workspace for the write lock, taken and
 *   released by updating it in place (no indexed column changes, so the updates are HOT and a
 *   lock per checkpoint leaves no dead index entries to wade through; a row inserted and deleted
 *   per checkpoint did, and made every lock slower until vacuum).
 * - runs, run_builds: runs shared by many runners (a run id, its inputs' hash; per build its
 *   status, attempts and the lease of the runner that claimed it) — claimed with SKIP LOCKED.
 */
import type { PoolClient } from 'pg';
import { UserError } from '../../errors.js';

export const DEFAULT_SCHEMA = 'builder_state';

/** Quotes a schema name after checking it is a plain identifier (user input never reaches SQL otherwise). */
export function quoteSchema(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new UserError(
      'STATE_PG_SCHEMA_NAME',
      `the schema name "${name}" for the PostgreSQL state is not a plain identifier: use letters, digits and "_" (at most 63, not starting with a digit).`,
    );
  }
  return `"${name}"`;
}

/** The statements of each schema version; `S` stands for the quoted schema name. */
const MIGRATIONS: readonly (readonly string[])[] = [
  // version 1
  [
    `CREATE SEQUENCE S.lease_tokens`,
    `CREATE TABLE S.workspaces (
       name text PRIMARY KEY,
       created_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE S.states (
       workspace text PRIMARY KEY,
       lineage text NOT NULL,
       serial bigint NOT NULL CHECK (serial >= 0),
       version integer NOT NULL,
       builder_version text NOT NULL,
       packer_version text NOT NULL,
       template json NOT NULL,
       last_run json,
       updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE S.builds (
       workspace text NOT NULL,
       key text NOT NULL,
       position bigint NOT NULL,
       record json NOT NULL,
       PRIMARY KEY (workspace, key))`,
    `CREATE INDEX builds_position ON S.builds (workspace, position)`,
    `CREATE TABLE S.steps (
       workspace text NOT NULL,
       build text NOT NULL,
       list text NOT NULL CHECK (list IN ('provisioners', 'post_processors')),
       index integer NOT NULL CHECK (index >= 0),
       record json NOT NULL,
       PRIMARY KEY (workspace, build, list, index))`,
    `CREATE TABLE S.history (
       workspace text NOT NULL,
       serial bigint NOT NULL,
       kind text NOT NULL CHECK (kind IN ('change', 'whole')),
       lineage text NOT NULL,
       body json NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (workspace, serial, kind))`,
    `CREATE TABLE S.leases (
       id uuid PRIMARY KEY,
       workspace text NOT NULL,
       scope text NOT NULL CHECK (scope IN ('write', 'build', 'state')),
       build text NOT NULL DEFAULT '',
       token bigint NOT NULL,
       operation text NOT NULL,
       holder jsonb NOT NULL,
       run_id text,
       created_at timestamptz NOT NULL,
       renewed_at timestamptz NOT NULL,
       expires_at timestamptz NOT NULL)`,
    `CREATE INDEX leases_workspace ON S.leases (workspace, scope, build)`,
    `CREATE TABLE S.write_leases (LIKE S.leases INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
    `ALTER TABLE S.write_leases ALTER COLUMN id DROP NOT NULL, ALTER COLUMN scope SET DEFAULT 'write', ADD PRIMARY KEY (workspace)`,
    `CREATE TABLE S.runs (
       workspace text NOT NULL,
       run_id text NOT NULL,
       inputs_hash text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (workspace, run_id))`,
    `CREATE TABLE S.run_builds (
       workspace text NOT NULL,
       run_id text NOT NULL,
       build text NOT NULL,
       status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'done', 'failed')),
       attempts integer NOT NULL DEFAULT 0,
       lease_id uuid,
       updated_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (workspace, run_id, build))`,
  ],
  // version 2 (issue 11): why a build of a shared run failed when no runner could say it (given up
  // after its runners kept stopping before it ended).
  [`ALTER TABLE S.run_builds ADD COLUMN reason text`],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** SQLSTATEs of a concurrent CREATE of the same object (another client migrating at once). */
const RACE_CODES = new Set(['23505', '42P06', '42P07', '42710']);

/**
 * Brings the schema to SCHEMA_VERSION (or, with `skip`, checks that it is there). `where` names
 * the database in messages (the URL without its password).
 */
export async function ensureSchema(db: PoolClient, schema: string, skip: boolean, where: string): Promise<void> {
  const s = quoteSchema(schema);
  const found = await currentVersion(db, s);
  if (found === SCHEMA_VERSION) return;
  if (found !== undefined && found > SCHEMA_VERSION) {
    throw new UserError(
      'STATE_PG_SCHEMA_NEWER',
      `the schema "${schema}" of the PostgreSQL state at ${where} is at version ${found}, newer than this builder knows (${SCHEMA_VERSION}); ` +
        'it was created by a newer builder. Upgrade builder, or name another schema.',
    );
  }
  if (skip) {
    throw new UserError(
      'STATE_PG_SCHEMA_MISSING',
      `the schema "${schema}" of the PostgreSQL state at ${where} is ${found === undefined ? 'missing' : `at version ${found}, older than ${SCHEMA_VERSION}`}, ` +
        'and schema creation is turned off (skip_schema_creation). Run builder once with a role that may create it, or create it as docs/design.md describes.',
    );
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await migrate(db, s);
      return;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      const code = (err as { code?: unknown }).code;
      if (attempt < 3 && typeof code === 'string' && RACE_CODES.has(code)) continue;
      throw err;
    }
  }
}

async function currentVersion(db: PoolClient, s: string): Promise<number | undefined> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [`${s}.schema_migrations`]);
  if (!exists.rows[0]?.t) return undefined;
  const r = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`);
  return r.rows[0]?.v ?? 0;
}

async function migrate(db: PoolClient, s: string): Promise<void> {
  await db.query('BEGIN');
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  // One migrator at a time: the others wait here, then find the work done.
  await db.query(`LOCK TABLE ${s}.schema_migrations IN EXCLUSIVE MODE`);
  const r = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`);
  for (let v = (r.rows[0]?.v ?? 0) + 1; v <= SCHEMA_VERSION; v++) {
    for (const statement of MIGRATIONS[v - 1]!) await db.query(statement.replace(/\bS\./g, `${s}.`));
    await db.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [v]);
  }
  await db.query('COMMIT');
}
