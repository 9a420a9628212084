/**
 * The PostgreSQL state backend: a StateClient over the tables of schema.ts (rows, not one blob),
 * selected by a `postgres://` URL. The StateManager still owns serial and lineage; this client
 * stores what it is given.
 *
 * Contracts:
 * - `get` reads the state rows in one REPEATABLE READ transaction (a consistent version).
 *   `refresh(known)` costs one statement: the state's serial plus the history rows since `known`,
 *   applied in place; anything else (a whole write, a gap) falls back to `get`.
 * - `put(state, changes)` is one statement (one round trip, atomic): it bumps the serial in the state row only if
 *   that row is at the serial this client last saw *and* every lease the write depends on is
 *   still this client's (see leases.ts, fenceSql) *and* no one else holds the write lease (its
 *   row share-locked: taking the lease waits for the put) — else the database changes nothing and the
 *   put throws; then it writes only the rows the changes touched (one step row for a step's
 *   checkpoint) and one history row per change. Its cost does not grow with the size of the state.
 *   `durable: false` commits with synchronous_commit off (a server crash may lose it, a client
 *   crash cannot). A put that fails on a lost connection is retried once on a new one, and
 *   recognised as done if the first attempt committed.
 *   A whole put (no changes) rewrites every row and records the whole version in history.
 * - Locks are lease rows (leases.ts), tried once; held leases are renewed every ttl/3. A lease
 *   that could not be renewed is reported (onLeaseLost, a warning) and stays in the fence, so
 *   later writes that depend on it are refused by the database.
 * - History: every version since the last-but-one compaction can be rebuilt (`versionAt`);
 *   `backup()` is the version before the current one.
 * - The password is never in `location`, messages, lock info or the state.
 */
import { performance } from 'node:perf_hooks';
import { hostname, userInfo } from 'node:os';
import type pg from 'pg';
import { UserError } from '../../errors.js';
import { applyRecords, type JournalRecord } from '../file/journal.js';
import type { LockInfo, LockRequest, PutOptions, StateChange, StateClient } from '../interfaces.js';
import type { StateFile } from '../types.js';
import { createPool, isConnectionError, PostgresStateError, redactUrl } from './connection.js';
import { Leases, type HeldLease, type LeaseIdentity } from './leases.js';
import { changedRows, checkDocument, putChangesSql, readState, touched, validChange, writeAllBuilds, writeHead } from './rows.js';
import { SharedRuns, type RunProgress } from './runs.js';
import { DEFAULT_SCHEMA, ensureSchema, quoteSchema } from './schema.js';

export interface PostgresClientOptions {
  /** Schema of the tables; default `builder_state`. */
  schema?: string;
  /** Do not create or migrate the schema (a locked-down database); it must exist at this version. */
  skipSchemaCreation?: boolean;
  /** Default `default`. */
  workspace?: string;
  onWarning?: (message: string) => void;
  /** Who holds this client's leases (defaults: this user, host and process). */
  holder?: LeaseIdentity;
  /** Lease time to live, on the server's clock; default 30 s. Renewed every third of it. */
  leaseTtlMs?: number;
  /** Called when a held lease could not be renewed: the holder must stop working on what it covers. */
  onLeaseLost?: (lease: LockInfo) => void;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
}

/** A write was refused because a lease it depends on is no longer this process's. */
export class StateLeaseLostError extends UserError {
  readonly leases: readonly LockInfo[];
  constructor(location: string, lost: readonly LockInfo[]) {
    const what = lost.map((l) => (l.scope === 'build' ? `the lock of build "${l.build ?? ''}"` : l.scope === 'state' ? 'the lock of the whole state' : 'the write lock')).join(', ');
    super(
      'STATE_LEASE_LOST',
      `the write to the state ${location} was refused: ${what} (ID ${lost.map((l) => l.id).join(', ')}) is no longer held by this process — ` +
        'it expired because it was not renewed in time, or someone broke it or took it over. Nothing was written. ' +
        'Another run may be working on the same build now: check with `builder state list`, then run the command again.',
    );
    this.leases = lost;
  }
}

/** The state row moved under a write that held no lock (-lock=false) or lost its write lock. */
export class StateConflictError extends UserError {
  constructor(location: string, expected: number, found: string) {
    super(
      'STATE_CONFLICT',
      `the state ${location} changed while this process wrote to it (expected serial ${expected}, found ${found}): another process wrote ` +
        'at the same time without the state lock. Nothing was written; run the command again (and keep locking on).',
    );
  }
}

/** How many history rows of single changes may pile up before `compact` records a whole version. */
const COMPACT_EVERY = 500;
const RETRIES = 6;

interface Cursor {
  state: StateFile;
}

export type PostgresStateClient = StateClient & Required<Pick<StateClient, 'refresh' | 'lock' | 'unlock' | 'locks' | 'backup' | 'compact'>> & {
  workspaceNames(): Promise<string[]>;
  createWorkspace(): Promise<void>;
  deleteWorkspace(): Promise<void>;
  readonly workspace: string;
  close(): Promise<void>;
  /** The version of the state at `serial`, rebuilt from history; undefined when not kept. */
  versionAt(serial: number): Promise<StateFile | undefined>;
  /** Serials of the kept versions, oldest first. */
  versions(): Promise<{ serial: number; created: string }[]>;
  /** Joins (or starts) a shared run; refused when its inputs differ (see runs.ts). */
  joinRun(runId: string, inputsHash: string): Promise<void>;
  /** Claims one build of a shared run with its lease (renewed like any lock), or undefined when none is left. */
  claimBuild(runId: string, candidates: readonly string[], options?: ClaimOptions): Promise<RunClaim | undefined>;
  /** Marks a claimed build done or failed and releases its lease; false when the claim was lost (nothing changed). */
  finishBuild(runId: string, claim: RunClaim, status: 'done' | 'failed'): Promise<boolean>;
  /** How many builds of the run are in each status, and who holds the claimed ones. */
  runProgress(runId: string): Promise<RunProgress>;
};

/** How a build of a shared run is claimed: the lease's operation, the claims of one build before
 * it is given up (default DEFAULT_MAX_ATTEMPTS), and who is told when this claimer gives one up. */
export interface ClaimOptions {
  operation?: string;
  maxAttempts?: number;
  onGiveUp?: (build: string, reason: string) => void;
}

/** Claims of one build of a shared run before it is given up (`build -max-attempts`). */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** A build claimed in a shared run. */
export interface RunClaim {
  build: string;
  attempt: number;
  lock: LockInfo;
}

export function createPostgresClient(url: string, options: PostgresClientOptions = {}): PostgresStateClient {
  return new PgStateClient(url, options);
}

class PgStateClient implements PostgresStateClient {
  readonly location: string;
  /** Incremental puts need no write lease: the put statement itself refuses a moved serial. */
  readonly optimisticPuts = true;
  readonly workspace: string;
  private readonly s: string;
  private readonly schemaName: string;
  private readonly skipSchema: boolean;
  private readonly pool: pg.Pool;
  private readonly leases: Leases;
  private readonly runs: SharedRuns;
  private readonly ttlMs: number;
  private readonly warn: (message: string) => void;
  private readonly onLeaseLost: (lease: LockInfo) => void;
  private ready: Promise<void> | undefined;
  private cursor: Cursor | undefined;
  private readonly held = new Map<string, HeldLease>();
  private readonly lostIds = new Set<string>();
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private renewInFlight = false;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(url: string, options: PostgresClientOptions) {
    this.location = redactUrl(url);
    this.workspace = options.workspace ?? 'default';
    this.schemaName = options.schema ?? DEFAULT_SCHEMA;
    this.s = quoteSchema(this.schemaName);
    this.skipSchema = options.skipSchemaCreation === true;
    this.ttlMs = options.leaseTtlMs ?? 30_000;
    this.warn = options.onWarning ?? (() => undefined);
    this.onLeaseLost = options.onLeaseLost ?? (() => undefined);
    const holder = options.holder ?? {};
    this.pool = createPool({
      url,
      applicationName: `builder ${holder.who ?? `${safeUser()}@${hostname()}`} pid ${holder.pid ?? process.pid}${holder.run ? ` run ${holder.run}` : ''}`,
      connectTimeoutMs: options.connectTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs,
      onWarning: this.warn,
    });
    this.leases = new Leases(this.s, this.workspace, this.location, this.ttlMs, holder, this.warn);
    this.runs = new SharedRuns(this.s, this.workspace, this.location, this.leases);
  }

  // ---- reading -----------------------------------------------------------------------------------

  async get(): Promise<StateFile | undefined> {
    const state = await this.withDb('read', true, (db) => this.readFresh(db));
    this.cursor = state ? { state } : undefined;
    return state;
  }

  async refresh(known: StateFile): Promise<StateFile | undefined> {
    if (this.cursor?.state !== known) return this.get();
    const rows = await this.withDb('read', true, async (db) => {
      const r = await db.query<{ current: string; current_lineage: string; serial: string | null; lineage: string | null; body: StateChange | null }>(
        `SELECT s.serial::text AS current, s.lineage AS current_lineage, h.serial::text AS serial, h.lineage, h.body
           FROM ${this.s}.states s
           LEFT JOIN ${this.s}.history h ON h.workspace = s.workspace AND h.kind = 'change' AND h.serial > $2 AND h.serial <= s.serial
          WHERE s.workspace = $1 ORDER BY h.serial`,
        [this.workspace, known.serial],
      );
      return r.rows;
    });
    const head = rows[0];
    if (!head) return this.get();
    if (Number(head.current) === known.serial && head.current_lineage === known.lineage) return known;
    if (head.current_lineage !== known.lineage) return this.get();
    const records: JournalRecord[] = [];
    for (const row of rows) {
      if (row.serial === null || row.body === null || row.lineage === null || !validChange(row.body)) return this.get();
      records.push({ lineage: row.lineage, serial: Number(row.serial), change: row.body });
    }
    if (!applyRecords(known, records) || known.serial !== Number(head.current)) return this.get();
    return known;
  }

  private async readFresh(db: pg.PoolClient): Promise<StateFile | undefined> {
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const state = await readState(db, this.s, this.workspace, this.where());
    await db.query('COMMIT');
    return state;
  }

  // ---- writing -----------------------------------------------------------------------------------

  async put(state: StateFile, changes?: readonly StateChange[], options: PutOptions = {}): Promise<void> {
    const incremental = changes !== undefined && changes.length > 0 && this.cursor?.state === state;
    const unlocked = options.unlocked === true;
    const underLease = !unlocked && [...this.held.values()].some((l) => l.info.scope !== 'build');
    if (!incremental && (unlocked || (changes !== undefined && changes.length > 0 && !underLease))) {
      // An optimistic put (no write lease) on a version this client did not read: never a whole
      // write without the lease — the manager reloads and tries again.
      throw new StateConflictError(this.location, state.serial - (changes?.length ?? 0), 'a version this client has not read');
    }
    const fence = await this.fenceFor(incremental ? changes : undefined, unlocked);
    const durable = options.durable !== false;
    let attempt = 0;
    await this.withDb('write', true, async (db) => {
      attempt++;
      if (incremental) await this.putChanges(db, state, changes, fence, durable, attempt > 1);
      else await this.putWhole(db, state, fence);
    });
    this.cursor = { state };
  }

  /** One statement (see rows.ts, putChangesSql): no transaction is left open between round trips. */
  private async putChanges(db: pg.PoolClient, state: StateFile, changes: readonly StateChange[], fence: HeldLease[], durable: boolean, retry: boolean): Promise<void> {
    const previous = state.serial - changes.length;
    const t = touched(changes);
    const rows = changedRows(state, t.keys, t.steps);
    // No one else may hold the write lease: a writer under it (a whole write — push, restore,
    // compaction — or any locked write) is never raced by an optimistic put. The workspace's
    // lease row is share-locked, whatever it holds, until this commits; taking the lease (tryWrite,
    // an upsert of that row) waits for that, so the lease holder reads the state after every put
    // that passed this check. The lock is in the subquery's target list on purpose: as a WHERE
    // above a FOR SHARE subquery, PostgreSQL pushed the conditions below the row lock, so a
    // released row (id NULL) was never locked and a lease could be taken, and the state read,
    // while a put that had passed the check was still to commit. A missing row (a state written
    // before any write lock) refuses the put (IS TRUE), and `refused` creates the row.
    // $11 lists the fence: its write lease is this put's own only when made under it (not
    // `unlocked`, see fenceFor).
    const noOtherWriter =
      `(SELECT w.id IS NULL OR w.expires_at <= clock_timestamp() OR w.id = ANY($11::uuid[]) ` +
      `FROM (SELECT id, expires_at FROM ${this.s}.write_leases WHERE workspace = $1 FOR SHARE) w) IS TRUE`;
    const r = await db.query<{ updated: number }>(putChangesSql(this.s, `${this.leases.fenceSql(11, 13)} AND ${noOtherWriter}`), [
      this.workspace,
      state.lineage,
      state.serial,
      state.builder_version,
      state.packer_version,
      changes.some((c) => c.templates !== undefined),
      JSON.stringify(state.templates),
      changes.some((c) => c.last_run !== undefined),
      JSON.stringify(state.last_run),
      previous,
      fence.map((l) => l.info.id),
      fence.map((l) => l.token),
      fence.length,
      durable ? 'on' : 'off',
      JSON.stringify(rows.lengths),
      rows.removed,
      JSON.stringify(rows.builds),
      JSON.stringify(rows.steps),
      JSON.stringify(changes),
    ]);
    if (r.rows[0]?.updated !== 1) await this.refused(db, state, fence, previous, retry, changes[changes.length - 1]);
  }

  /**
   * Why a fenced update changed no row: a lost lease (StateLeaseLostError), the state moved
   * (StateConflictError) — or, on a retry, the first attempt had committed (returns).
   */
  private async refused(db: pg.PoolClient, state: StateFile, fence: HeldLease[], previous: number, retry: boolean, lastChange?: StateChange): Promise<void> {
    const head = await db.query<{ serial: string; lineage: string }>(`SELECT serial::text AS serial, lineage FROM ${this.s}.states WHERE workspace = $1`, [this.workspace]);
    const found = head.rows[0];
    if (retry && found && found.lineage === state.lineage && Number(found.serial) === state.serial && (await this.isOwnChange(db, state.serial, lastChange))) return;
    const lost = await this.leases.lost(db, fence);
    if (lost.length > 0) {
      for (const l of lost) this.lostIds.add(l.info.id);
      throw new StateLeaseLostError(this.location, lost.map((l) => l.info));
    }
    // The workspace has no write-lease row yet: optimistic puts are refused until it exists (see
    // putChanges), so make it (released); the caller tries again.
    if (await this.leases.ensureWriteRow(db)) throw new StateConflictError(this.location, previous, 'no write-lock row for the workspace yet (made now)');
    throw new StateConflictError(this.location, previous, found ? `serial ${found.serial}${found.lineage === state.lineage ? '' : ' of another lineage'}` : 'no state');
  }

  /**
   * Whether the change recorded at `serial` is `change` (a put retried after a lost connection
   * finds its own commit). Puts without the write lease (optimisticPuts) make the serial alone no
   * proof: another writer may have taken it.
   */
  private async isOwnChange(db: pg.PoolClient, serial: number, change: StateChange | undefined): Promise<boolean> {
    if (!change) return true;
    const r = await db.query<{ mine: boolean }>(
      `SELECT body::jsonb = $3::jsonb AS mine FROM ${this.s}.history WHERE workspace = $1 AND serial = $2 AND kind = 'change'`,
      [this.workspace, serial, JSON.stringify(change)],
    );
    return r.rows[0]?.mine === true;
  }

  private async putWhole(db: pg.PoolClient, state: StateFile, fence: HeldLease[]): Promise<void> {
    const s = this.s;
    await db.query(`BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.max(this.ttlMs, 10_000)}`);
    try {
      if (fence.length > 0) {
        const ok = await db.query<{ ok: boolean }>(`SELECT ${this.leases.fenceSql(1, 3)} AS ok`, [fence.map((l) => l.info.id), fence.map((l) => l.token), fence.length]);
        if (!ok.rows[0]?.ok) await this.refused(db, state, fence, -1, false);
      }
      await writeHead(db, s, this.workspace, state);
      await writeAllBuilds(db, s, this.workspace, state);
      await db.query(
        `INSERT INTO ${s}.history (workspace, serial, kind, lineage, body) VALUES ($1, $2, 'whole', $3, $4)
         ON CONFLICT (workspace, serial, kind) DO UPDATE SET lineage = excluded.lineage, body = excluded.body, created_at = excluded.created_at`,
        [this.workspace, state.serial, state.lineage, JSON.stringify(state)],
      );
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * The leases a write depends on: this client's write and state leases, and the build leases of
   * the builds it changes (all build leases for a whole write). An `unlocked` put (optimistic) does
   * not depend on a write lease the client holds: that one is another user's of this client. A lease past the holder's own
   * deadline is renewed first; one that cannot be is refused here without asking the database.
   */
  private async fenceFor(changes: readonly StateChange[] | undefined, unlocked = false): Promise<HeldLease[]> {
    const builds = changes ? new Set(touchedBuilds(changes)) : undefined;
    const fence = [...this.held.values()].filter((l) =>
      l.info.scope === 'build' ? !builds || builds.has(l.info.build ?? '') : !(unlocked && l.info.scope === 'write'),
    );
    const late = fence.filter((l) => l.deadline <= performance.now() && !this.lostIds.has(l.info.id));
    if (late.length > 0) await this.renewNow(late);
    const lost = fence.filter((l) => this.lostIds.has(l.info.id));
    if (lost.length > 0) throw new StateLeaseLostError(this.location, lost.map((l) => l.info));
    return fence;
  }

  /** The workspaces this database holds, "default" among them. */
  async workspaceNames(): Promise<string[]> {
    const names = await this.withDb('list the workspaces of', true, async (db) => (await db.query<{ name: string }>(`SELECT name FROM ${this.s}.workspaces ORDER BY name`)).rows.map((r) => r.name));
    return ['default', ...names.filter((n) => n !== 'default')];
  }

  /** Makes this client's workspace exist (its state stays empty until first written). */
  async createWorkspace(): Promise<void> {
    await this.withDb('create a workspace in', true, (db) => db.query(`INSERT INTO ${this.s}.workspaces (name) VALUES ($1) ON CONFLICT DO NOTHING`, [this.workspace]));
  }

  /** Removes this client's workspace: its state, history, leases and the workspace row. */
  async deleteWorkspace(): Promise<void> {
    await this.delete();
    await this.withDb('remove a workspace from', true, (db) => db.query(`DELETE FROM ${this.s}.workspaces WHERE name = $1`, [this.workspace]).catch(() => undefined));
  }

  async delete(): Promise<void> {
    await this.withDb('remove', true, async (db) => {
      await db.query('BEGIN');
      try {
        for (const table of ['steps', 'builds', 'history']) await db.query(`DELETE FROM ${this.s}.${table} WHERE workspace = $1`, [this.workspace]);
        await db.query(`DELETE FROM ${this.s}.states WHERE workspace = $1`, [this.workspace]);
        await db.query('COMMIT');
      } catch (err) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    this.cursor = undefined;
  }

  /**
   * Records the whole current version in history once COMPACT_EVERY single changes have piled up
   * since the last one, and drops history older than the version before (so `versionAt` can
   * rebuild every serial since the last-but-one compaction). Callers hold the write lock.
   */
  async compact(): Promise<void> {
    await this.withDb('compact', true, async (db) => {
      const s = this.s;
      const w = await db.query<{ last: string | null; pending: string }>(
        `SELECT (SELECT max(serial)::text FROM ${s}.history WHERE workspace = $1 AND kind = 'whole') AS last,
                (SELECT count(*)::text FROM ${s}.history h WHERE workspace = $1 AND kind = 'change'
                   AND serial > coalesce((SELECT max(serial) FROM ${s}.history WHERE workspace = $1 AND kind = 'whole'), 0)) AS pending`,
        [this.workspace],
      );
      if (Number(w.rows[0]?.pending ?? 0) < COMPACT_EVERY) return;
      const state = await this.readFresh(db);
      if (!state) return;
      await db.query('BEGIN');
      try {
        await db.query(
          `INSERT INTO ${s}.history (workspace, serial, kind, lineage, body) VALUES ($1, $2, 'whole', $3, $4) ON CONFLICT DO NOTHING`,
          [this.workspace, state.serial, state.lineage, JSON.stringify(state)],
        );
        const keepFrom = w.rows[0]?.last;
        if (keepFrom !== null && keepFrom !== undefined) {
          await db.query(`DELETE FROM ${s}.history WHERE workspace = $1 AND serial < $2`, [this.workspace, keepFrom]);
        }
        await db.query('COMMIT');
      } catch (err) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  // ---- history -----------------------------------------------------------------------------------

  async backup(): Promise<StateFile | undefined> {
    const head = await this.withDb('read', true, (db) =>
      db.query<{ serial: string }>(`SELECT serial::text AS serial FROM ${this.s}.states WHERE workspace = $1`, [this.workspace]),
    );
    const serial = head.rows[0] ? Number(head.rows[0].serial) : 0;
    return serial > 1 ? this.versionAt(serial - 1) : undefined;
  }

  async versionAt(serial: number): Promise<StateFile | undefined> {
    return this.withDb('read the history of', true, async (db) => {
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const base = await db.query<{ body: Record<string, unknown> }>(
          `SELECT body FROM ${this.s}.history WHERE workspace = $1 AND kind = 'whole' AND serial <= $2 ORDER BY serial DESC LIMIT 1`,
          [this.workspace, serial],
        );
        const body = base.rows[0]?.body;
        if (!body) return undefined;
        const state = checkDocument(body, `${this.where()} (history)`);
        const rest = await db.query<{ serial: string; lineage: string; body: StateChange }>(
          `SELECT serial::text AS serial, lineage, body FROM ${this.s}.history WHERE workspace = $1 AND kind = 'change' AND serial > $2 AND serial <= $3 ORDER BY serial`,
          [this.workspace, state.serial, serial],
        );
        const records = rest.rows.map((r) => ({ lineage: r.lineage, serial: Number(r.serial), change: r.body }));
        if (!records.every((r) => validChange(r.change)) || !applyRecords(state, records) || state.serial !== serial) return undefined;
        return state;
      } finally {
        await db.query('COMMIT');
      }
    });
  }

  async versions(): Promise<{ serial: number; created: string }[]> {
    const r = await this.withDb('read the history of', true, (db) =>
      db.query<{ serial: string; created: Date }>(
        `SELECT serial::text AS serial, min(created_at) AS created FROM ${this.s}.history WHERE workspace = $1 GROUP BY serial ORDER BY serial`,
        [this.workspace],
      ),
    );
    return r.rows.map((row) => ({ serial: Number(row.serial), created: row.created.toISOString() }));
  }

  // ---- locks -------------------------------------------------------------------------------------

  async lock(request: LockRequest): Promise<LockInfo> {
    const lease = await this.withDb('lock', true, (db) => this.leases.take(db, request));
    this.held.set(lease.info.id, lease);
    this.scheduleRenewal();
    this.armDeadline();
    return lease.info;
  }

  async unlock(id: string): Promise<LockInfo> {
    const info = await this.withDb('unlock', true, (db) => this.leases.remove(db, id));
    this.forget(id);
    return info;
  }

  async locks(): Promise<LockInfo[]> {
    return this.withDb('read the locks of', true, (db) => this.leases.list(db));
  }

  // ---- shared runs -------------------------------------------------------------------------------

  async joinRun(runId: string, inputsHash: string): Promise<void> {
    await this.withDb('join a run in', true, (db) => this.runs.join(db, runId, inputsHash));
  }

  async claimBuild(runId: string, candidates: readonly string[], options: ClaimOptions = {}): Promise<RunClaim | undefined> {
    const claim = await this.withDb('claim a build in', true, (db) =>
      this.runs.claim(db, runId, candidates, options.operation ?? 'build', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, options.onGiveUp),
    );
    if (!claim) return undefined;
    this.held.set(claim.lease.info.id, claim.lease);
    this.scheduleRenewal();
    this.armDeadline();
    return { build: claim.build, attempt: claim.attempt, lock: claim.lease.info };
  }

  async finishBuild(runId: string, claim: RunClaim, status: 'done' | 'failed'): Promise<boolean> {
    const lease = this.held.get(claim.lock.id);
    if (!lease || this.lostIds.has(lease.info.id)) return false;
    const ok = await this.withDb('finish a build in', true, (db) => this.runs.finish(db, runId, claim.build, lease, status));
    if (ok) await this.unlock(claim.lock.id).catch(() => this.forget(claim.lock.id));
    return ok;
  }

  async runProgress(runId: string): Promise<RunProgress> {
    return this.withDb('read a run in', true, (db) => this.runs.progress(db, runId));
  }

  /** Stops renewing, closes the connections. Leases still held expire after their TTL. */
  async close(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    await this.renewing?.catch(() => undefined);
    // Idempotent: the manager closes its client, and so may whoever made it.
    if (!this.pool.ended) await this.pool.end();
  }

  private forget(id: string): void {
    this.held.delete(id);
    this.lostIds.delete(id);
    if (this.held.size === 0 && this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    this.armDeadline();
  }

  private scheduleRenewal(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      // A renewal still waiting for the database is not joined by another one: the deadline
      // timer (armDeadline) decides when waiting has lasted too long.
      if (!this.renewInFlight) void this.renewNow([...this.held.values()].filter((l) => !this.lostIds.has(l.info.id)));
    }, Math.max(50, Math.floor(this.ttlMs / 3)));
    this.renewTimer.unref();
  }

  /**
   * The holder's own deadline, on this process's monotonic clock: a timer fires at the earliest
   * deadline of the held leases, and every lease then past its deadline is lost (reported through
   * onLeaseLost) — whether its renewal failed, or is still waiting for a database that does not
   * answer. The deadline is measured from before the request that took or renewed the lease, so
   * it passes no later than the server's expiry: the holder stops before another runner can take
   * the lease over.
   */
  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const live = [...this.held.values()].filter((l) => !this.lostIds.has(l.info.id));
    if (live.length === 0) return;
    const first = Math.min(...live.map((l) => l.deadline));
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      const now = performance.now();
      for (const l of live) if (l.deadline <= now && this.held.get(l.info.id) === l) this.markLost(l.info.id);
      this.armDeadline();
    }, Math.max(0, Math.ceil(first - performance.now())) + 1);
    this.deadlineTimer.unref();
  }

  /** Renews `leases` now; those no longer held are marked lost and reported. Never throws. */
  private renewNow(leases: HeldLease[]): Promise<void> {
    if (leases.length === 0) return Promise.resolve();
    this.renewInFlight = true;
    const run = (async () => {
      try {
        const gone = await this.withDb('renew the locks of', false, (db) => this.leases.renew(db, leases, performance.now()));
        for (const id of gone) this.markLost(id);
        this.armDeadline();
      } catch (err) {
        // Unreachable database: the lease stands until its expiry; past the holder's own deadline
        // it is treated as lost.
        const now = performance.now();
        for (const l of leases) if (l.deadline <= now) this.markLost(l.info.id);
        if (leases.some((l) => !this.lostIds.has(l.info.id))) this.warn(`could not renew the locks on ${this.location}: ${err instanceof Error ? err.message : String(err)}; retrying.`);
      } finally {
        this.renewInFlight = false;
      }
    })();
    this.renewing = run;
    return run;
  }

  private markLost(id: string): void {
    const lease = this.held.get(id);
    if (!lease || this.lostIds.has(id)) return;
    this.lostIds.add(id);
    this.warn(`lost ${lease.info.scope === 'build' ? `the lock of build "${lease.info.build ?? ''}"` : `the ${lease.info.scope} lock`} (ID ${id}) on ${this.location}: it was not renewed in time or was broken; writes that depend on it are refused.`);
    this.onLeaseLost(lease.info);
  }

  // ---- connections -------------------------------------------------------------------------------

  private where(): string {
    return this.workspace === 'default' ? this.location : `${this.location} (workspace "${this.workspace}")`;
  }

  /**
   * Runs `work` on a pooled connection, after making sure the schema exists. A connection that
   * failed is discarded (never reused with a transaction in an unknown state). With `retry`,
   * connection failures are retried on new connections with growing pauses (a server restart).
   */
  private async withDb<T>(action: string, retry: boolean, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let db: pg.PoolClient | undefined;
      try {
        db = await this.pool.connect();
        if (!this.ready) this.ready = ensureSchema(db, this.schemaName, this.skipSchema, this.where());
        try {
          await this.ready;
        } catch (err) {
          this.ready = undefined;
          throw err;
        }
        const result = await work(db);
        db.release();
        return result;
      } catch (err) {
        db?.release(true);
        if (err instanceof UserError) throw err;
        if (retry && attempt < RETRIES && isConnectionError(err)) {
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
          continue;
        }
        throw new PostgresStateError(this.where(), action, err);
      }
    }
  }
}

function touchedBuilds(changes: readonly StateChange[]): string[] {
  const t = touched(changes);
  return [...t.keys, ...t.steps.map((s) => s.build)];
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
