/**
 * Locks of the PostgreSQL backend as lease rows (table `leases`, see schema.ts).
 *
 * Contracts:
 * - A lease names its holder (who, host, pid, process start, version, operation, run, since),
 *   carries a fencing token from a sequence (a later lease always has a larger token) and expires
 *   at a time set by the *server's* clock (`clock_timestamp() + ttl`); the holder renews it.
 * - `take` tries once: a lease held by someone else throws StateLockedError naming the holder
 *   (waiting, if any, is the caller's). Expired leases are removed first; a lease whose holder is
 *   a dead process on this host is taken over with a warning, as the file backend does.
 * - `write` leases: one row per workspace in `write_leases`, taken (when free or expired) and
 *   released by updating it in place, one statement each. Taking it locks the row, so it waits
 *   for the optimistic puts in flight (they share-lock the row, see client.ts putChanges). `build` and
 *   `state` leases: taken in one transaction under the workspace row's lock, since a `state`
 *   lease excludes every `build` lease.
 * - `fenceSql` is the condition a write puts in its own statement so that the database refuses it
 *   unless every lease it names is still the writer's (same id and token, not expired) — the rows
 *   are share-locked until the write commits, so no takeover can slip in between.
 * - A lease is broken by id by anyone (`state unlock ID`).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { LockNotFoundError, StateLockedError } from '../errors.js';
import type { LockInfo, LockRequest, LockScope } from '../interfaces.js';
import { holderState, newLockInfo } from '../lock-holder.js';

/** A lease as this process holds it. */
export interface HeldLease {
  info: LockInfo;
  token: string;
  /** performance.now() by which the lease must have been renewed (the holder's own deadline). */
  deadline: number;
}

/** What a lease row holds about its holder (jsonb column `holder`). */
interface HolderRecord {
  who: string;
  host: string;
  pid: number;
  pid_start?: string;
  version: string;
  path: string;
}

interface LeaseRow {
  id: string;
  scope: LockScope;
  build: string;
  token: string;
  operation: string;
  holder: HolderRecord;
  run_id: string | null;
  created_at: Date;
  expires_at: Date;
  expired?: boolean;
}

export interface LeaseIdentity {
  /** The run this holder works for (shared runs); stored with the lease. */
  run?: string;
  /** Overrides of the holder's identity (tests, or a CLI that knows better). */
  who?: string;
  host?: string;
  pid?: number;
}

/**
 * Makes the statement's own (implicit) transaction commit without waiting for the WAL flush.
 * Used for taking a write lease, renewing and releasing leases: losing one of those in a server
 * crash is safe — a lost take or renewal makes the holder's next write fail its fence, a lost
 * release leaves a lease that expires — and it spares the two extra flushes a checkpoint would
 * otherwise wait for (the checkpoint's own commit flushes them anyway).
 */
const ASYNC_COMMIT = `SELECT set_config('synchronous_commit', 'off', true)`;

const COLUMNS = `id, scope, build, token::text AS token, operation, holder, run_id, created_at, expires_at`;

export class Leases {
  constructor(
    private readonly schema: string,
    private readonly workspace: string,
    private readonly location: string,
    private readonly ttlMs: number,
    private readonly identity: LeaseIdentity,
    private readonly warn: (message: string) => void,
  ) {}

  /** Tries once to take a lease (see the module comment). */
  async take(db: pg.PoolClient, request: LockRequest): Promise<HeldLease> {
    const info = this.newInfo(request);
    for (let attempt = 0; ; attempt++) {
      const held = request.scope === 'write' ? await this.tryWrite(db, info) : await this.tryExclusive(db, info);
      if ('lease' in held) return held.lease;
      // Holders found: those that are dead processes on this host are taken over, the others win.
      const alive = held.holders.filter((h) => holderState(h.info) !== 'dead');
      if (alive.length > 0 || attempt >= 2) throw new StateLockedError(this.location, (alive.length > 0 ? alive : held.holders).map((h) => h.info), 0);
      for (const dead of held.holders) {
        const r = await db.query<{ n: number }>(
          `WITH a AS (DELETE FROM ${this.schema}.leases WHERE id = $1 AND token = $2 RETURNING 1),
                b AS (UPDATE ${this.schema}.write_leases SET id = NULL, expires_at = '-infinity' WHERE id = $1 AND token = $2 RETURNING 1)
           SELECT ((SELECT count(*) FROM a) + (SELECT count(*) FROM b))::integer AS n`,
          [dead.info.id, dead.token],
        );
        if (r.rows[0]?.n) this.warn(`took over ${describe(dead.info)}: its holder (pid ${dead.info.pid} on this host) is gone.`);
      }
    }
  }

  /** Renews these leases; returns the ids that are no longer held (expired, broken or taken over). */
  async renew(db: pg.PoolClient, leases: readonly HeldLease[], now: number): Promise<string[]> {
    if (leases.length === 0) return [];
    const set = `SET renewed_at = clock_timestamp(), expires_at = clock_timestamp() + $3 * interval '1 millisecond'
        WHERE id = ANY($1::uuid[]) AND token = ANY($2::bigint[]) AND expires_at > clock_timestamp() AND (${ASYNC_COMMIT}) IS NOT NULL RETURNING id`;
    const r = await db.query<{ id: string }>(
      `WITH a AS (UPDATE ${this.schema}.leases ${set}), b AS (UPDATE ${this.schema}.write_leases ${set}) SELECT id FROM a UNION ALL SELECT id FROM b`,
      [leases.map((l) => l.info.id), leases.map((l) => l.token), this.ttlMs],
    );
    const renewed = new Set(r.rows.map((row) => row.id));
    for (const l of leases) if (renewed.has(l.info.id)) l.deadline = now + this.ttlMs;
    return leases.filter((l) => !renewed.has(l.info.id)).map((l) => l.info.id);
  }

  /** Removes a lease by id, whoever holds it. */
  async remove(db: pg.PoolClient, id: string): Promise<LockInfo> {
    if (!isUuid(id)) throw new LockNotFoundError(this.location, id, await this.list(db));
    const w = this.schema;
    const r = await db.query<LeaseRow>(
      `WITH a AS (DELETE FROM ${w}.leases WHERE workspace = $1 AND id = $2 AND (${ASYNC_COMMIT}) IS NOT NULL RETURNING ${COLUMNS}),
            old AS (SELECT ${COLUMNS} FROM ${w}.write_leases WHERE workspace = $1 AND id = $2 FOR UPDATE),
            b AS (UPDATE ${w}.write_leases x SET id = NULL, expires_at = '-infinity' FROM old WHERE x.workspace = $1 AND x.id = $2 RETURNING old.*)
       SELECT * FROM a UNION ALL SELECT * FROM b`,
      [this.workspace, id],
    );
    const row = r.rows[0];
    if (!row) throw new LockNotFoundError(this.location, id, await this.list(db));
    return this.toInfo(row);
  }

  /** Every lease currently held (not expired). */
  async list(db: pg.PoolClient): Promise<LockInfo[]> {
    const r = await db.query<LeaseRow>(
      `SELECT ${COLUMNS} FROM ${this.schema}.leases WHERE workspace = $1 AND expires_at > clock_timestamp()
       UNION ALL SELECT ${COLUMNS} FROM ${this.schema}.write_leases WHERE workspace = $1 AND id IS NOT NULL AND expires_at > clock_timestamp()
       ORDER BY created_at`,
      [this.workspace],
    );
    return r.rows.map((row) => this.toInfo(row));
  }

  /**
   * SQL that is true only when every lease in `$ids`/`$tokens` (parameters numbered `idsParam`
   * and `idsParam + 1`) is still held, share-locking those rows until the statement's transaction
   * ends. The caller passes the count as `countParam`.
   */
  fenceSql(idsParam: number, countParam: number): string {
    const held = (table: string): string =>
      `(SELECT count(*) FROM (SELECT 1 FROM ${this.schema}.${table} WHERE id = ANY($${idsParam}::uuid[]) ` +
      `AND token = ANY($${idsParam + 1}::bigint[]) AND expires_at > clock_timestamp() FOR SHARE) f)`;
    return `(${held('leases')} + ${held('write_leases')}) = $${countParam}`;
  }

  /**
   * Makes the workspace's write-lease row (released) unless it exists; true when it was missing.
   * Optimistic puts lock that row to exclude the taking of the lease, so they need it to exist.
   */
  async ensureWriteRow(db: pg.PoolClient): Promise<boolean> {
    const r = await db.query(
      `INSERT INTO ${this.schema}.write_leases (workspace, id, token, operation, holder, created_at, renewed_at, expires_at)
       VALUES ($1, NULL, 0, '', '{}', clock_timestamp(), clock_timestamp(), '-infinity') ON CONFLICT (workspace) DO NOTHING`,
      [this.workspace],
    );
    return r.rowCount === 1;
  }

  /** Which of these leases are no longer held (for the message of a refused write). */
  async lost(db: pg.PoolClient, leases: readonly HeldLease[]): Promise<HeldLease[]> {
    const r = await db.query<{ id: string }>(
      `SELECT id FROM ${this.schema}.leases WHERE id = ANY($1::uuid[]) AND token = ANY($2::bigint[]) AND expires_at > clock_timestamp()
       UNION ALL SELECT id FROM ${this.schema}.write_leases WHERE id = ANY($1::uuid[]) AND token = ANY($2::bigint[]) AND expires_at > clock_timestamp()`,
      [leases.map((l) => l.info.id), leases.map((l) => l.token)],
    );
    const ok = new Set(r.rows.map((row) => row.id));
    return leases.filter((l) => !ok.has(l.info.id));
  }

  // ---- taking ------------------------------------------------------------------------------------

  newInfo(request: LockRequest): LockInfo {
    const info = newLockInfo(request.scope, request.operation, this.location, request.scope === 'build' ? request.build : undefined);
    info.id = randomUUID();
    if (this.identity.who !== undefined) info.who = this.identity.who;
    if (this.identity.host !== undefined) info.host = this.identity.host;
    if (this.identity.pid !== undefined) info.pid = this.identity.pid;
    return info;
  }

  /** One statement: drop an expired write lease, insert ours unless another one is there. */
  private async tryWrite(db: pg.PoolClient, info: LockInfo, round = 0): Promise<{ lease: HeldLease } | { holders: { info: LockInfo; token: string }[] }> {
    const r = await db.query<LeaseRow>(
      `INSERT INTO ${this.schema}.write_leases AS w (workspace, id, token, operation, holder, run_id, created_at, renewed_at, expires_at)
       SELECT $2, $1, nextval('${this.schema}.lease_tokens'), $3, $4, $5, clock_timestamp(), clock_timestamp(), clock_timestamp() + $6 * interval '1 millisecond'
         FROM (${ASYNC_COMMIT}) cfg
       ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, token = excluded.token, operation = excluded.operation, holder = excluded.holder,
         run_id = excluded.run_id, created_at = excluded.created_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
       WHERE w.id IS NULL OR w.expires_at <= clock_timestamp()
       RETURNING ${COLUMNS}`,
      [info.id, this.workspace, info.operation, JSON.stringify(holderRecord(info)), this.identity.run ?? null, this.ttlMs],
    );
    const row = r.rows[0];
    if (row) return { lease: this.held(row) };
    const h = await db.query<LeaseRow>(
      `SELECT ${COLUMNS} FROM ${this.schema}.write_leases WHERE workspace = $1 AND id IS NOT NULL AND expires_at > clock_timestamp()`,
      [this.workspace],
    );
    // Released or expired since the statement above: try again.
    const live = h.rows;
    if (live.length === 0 && round < 3) return this.tryWrite(db, info, round + 1);
    return { holders: live.map((x) => ({ info: this.toInfo(x), token: x.token })) };
  }

  /** A build or state lease, in one transaction under the workspace row's lock. */
  private async tryExclusive(db: pg.PoolClient, info: LockInfo): Promise<{ lease: HeldLease } | { holders: { info: LockInfo; token: string }[] }> {
    await db.query('BEGIN');
    try {
      const r = await this.takeInTransaction(db, info);
      await db.query('COMMIT'); // also keeps the removal of expired leases when refused
      return r;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Takes a build or state lease inside the caller's open transaction (claims of shared runs
   * take a build's lease with its claim): locks the workspace row, removes expired leases, and
   * inserts the lease unless a conflicting one is held — then returns the holders instead.
   */
  async takeInTransaction(db: pg.PoolClient, info: LockInfo): Promise<{ lease: HeldLease } | { holders: { info: LockInfo; token: string }[] }> {
    const s = this.schema;
    await db.query(`INSERT INTO ${s}.workspaces (name) VALUES ($1) ON CONFLICT DO NOTHING`, [this.workspace]);
    await db.query(`SELECT 1 FROM ${s}.workspaces WHERE name = $1 FOR UPDATE`, [this.workspace]);
    const gone = await db.query<LeaseRow>(
      `DELETE FROM ${s}.leases WHERE workspace = $1 AND scope <> 'write' AND expires_at <= clock_timestamp() RETURNING ${COLUMNS}`,
      [this.workspace],
    );
    for (const row of gone.rows) this.warn(`${describe(this.toInfo(row))} expired (its holder stopped renewing it) and was removed.`);
    const conflicts = await db.query<LeaseRow>(
      `SELECT ${COLUMNS} FROM ${s}.leases WHERE workspace = $1 AND (scope = 'state' OR ($2 = 'state' AND scope = 'build') OR (scope = 'build' AND build = $3))`,
      [this.workspace, info.scope, info.build ?? ''],
    );
    if (conflicts.rows.length > 0) return { holders: conflicts.rows.map((x) => ({ info: this.toInfo(x), token: x.token })) };
    const r = await db.query<LeaseRow>(
      `INSERT INTO ${s}.leases (id, workspace, scope, build, token, operation, holder, run_id, created_at, renewed_at, expires_at)
       VALUES ($1, $2, $3, $4, nextval('${s}.lease_tokens'), $5, $6, $7, clock_timestamp(), clock_timestamp(), clock_timestamp() + $8 * interval '1 millisecond')
       RETURNING ${COLUMNS}`,
      [info.id, this.workspace, info.scope, info.build ?? '', info.operation, JSON.stringify(holderRecord(info)), this.identity.run ?? null, this.ttlMs],
    );
    return { lease: this.held(r.rows[0]!) };
  }

  private held(row: LeaseRow): HeldLease {
    // The deadline is measured from before the lease was taken: the server's expiry is later.
    return { info: this.toInfo(row), token: row.token, deadline: performance.now() + this.ttlMs - 1 };
  }

  private toInfo(row: LeaseRow): LockInfo {
    const h = row.holder;
    const info: LockInfo = {
      id: row.id,
      scope: row.scope,
      operation: row.operation,
      who: h.who,
      host: h.host,
      pid: h.pid,
      created: row.created_at.toISOString(),
      path: this.location,
      version: h.version,
    };
    if (row.scope === 'build') info.build = row.build;
    if (h.pid_start !== undefined) info.pid_start = h.pid_start;
    if (row.run_id !== null) info.run = row.run_id;
    // A released row's expiry is '-infinity' (not a Date): no expiry to tell.
    if (row.expires_at instanceof Date && Number.isFinite(row.expires_at.getTime())) info.expires = row.expires_at.toISOString();
    return info;
  }
}

function holderRecord(info: LockInfo): HolderRecord {
  const h: HolderRecord = { who: info.who, host: info.host, pid: info.pid, version: info.version, path: info.path };
  if (info.pid_start !== undefined) h.pid_start = info.pid_start;
  return h;
}

function describe(info: LockInfo): string {
  const what = info.scope === 'build' ? `the lock of build "${info.build ?? ''}"` : info.scope === 'state' ? 'the lock of the whole state' : 'the write lock';
  return `${what} held by ${info.who} (pid ${info.pid}) for "${info.operation}" since ${info.created}`;
}

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
