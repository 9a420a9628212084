/**
 * Runs shared by many runners (tables `runs` and `run_builds`, schema.ts): the primitives of
 * `builder build -run-id` (src/stateful/claims.ts).
 *
 * Contracts:
 * - `join(runId, inputsHash)`: the first runner records the run; a runner whose inputs hash
 *   differs is refused with a message naming both.
 * - `claim(runId, candidates)`: in one transaction, adds the candidates to the run (once),
 *   picks one that is pending — or claimed by a runner whose lease has expired or been broken —
 *   with `FOR UPDATE SKIP LOCKED` (concurrent claimers never wait for nor get the same build),
 *   takes that build's lease (leases.ts) and marks it claimed with the lease's id and one more
 *   attempt. A build whose attempts reached `maxAttempts` (every claim ended by its runner
 *   stopping: a build that keeps crashing its runners) is marked failed instead, with a reason
 *   naming the attempts (`onGiveUp` is told), and no runner claims it again. Resolves to undefined
 *   when no build is left to claim.
 * - `finish(runId, build, lease, status)`: marks the build done or failed only while `lease` is
 *   still the claimer's (fenced like a state write); a runner that lost its claim changes nothing.
 * - `progress(runId)`: how many builds are in each status (a runner waits until none is pending
 *   or claimed, so every runner's exit code can report the whole run).
 */
import type pg from 'pg';
import { UserError } from '../../errors.js';
import type { HeldLease, Leases } from './leases.js';

export interface Claim {
  build: string;
  /** 1 for the first claim of this build in the run; more after takeovers. */
  attempt: number;
  lease: HeldLease;
}

export type RunBuildStatus = 'pending' | 'claimed' | 'done' | 'failed';

/** How many builds of a run are in each status, who holds the claimed ones (build → holder's
 * `who`, live leases only), which builds failed and, for those given up after too many claims, why. */
export type RunProgress = Record<RunBuildStatus, number> & { holders: Record<string, string>; failedBuilds: string[]; reasons: Record<string, string> };

/** Why a build was given up after `attempts` claims whose runners all stopped before it ended. */
export function gaveUpReason(attempts: number): string {
  return (
    `given up after ${attempts} attempt(s): each runner that claimed it stopped (killed, crashed or frozen past its lease) before the build ended, ` +
    'so the build itself may be what kills its runner. See the last output of those runners, fix the build, and start a new run ' +
    '(a build given up is not claimed again in this run; -max-attempts sets the bound).'
  );
}

export class SharedRuns {
  constructor(
    private readonly s: string,
    private readonly workspace: string,
    private readonly location: string,
    private readonly leases: Leases,
  ) {}

  async join(db: pg.PoolClient, runId: string, inputsHash: string): Promise<void> {
    await db.query(`INSERT INTO ${this.s}.runs (workspace, run_id, inputs_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [this.workspace, runId, inputsHash]);
    const r = await db.query<{ inputs_hash: string }>(`SELECT inputs_hash FROM ${this.s}.runs WHERE workspace = $1 AND run_id = $2`, [this.workspace, runId]);
    const found = r.rows[0]?.inputs_hash;
    if (found !== inputsHash) {
      throw new UserError(
        'STATE_RUN_INPUTS_DIFFER',
        `the shared run "${runId}" on ${this.location} was started with other inputs (hash ${found ?? 'unknown'}; this runner's is ${inputsHash}): ` +
          'every runner of a run must use the same template, variables and files. Start this runner with the same inputs, or with another -run-id.',
      );
    }
  }

  async claim(
    db: pg.PoolClient,
    runId: string,
    candidates: readonly string[],
    operation: string,
    maxAttempts: number,
    onGiveUp: (build: string, reason: string) => void = () => undefined,
  ): Promise<Claim | undefined> {
    const s = this.s;
    const skipped: string[] = [];
    for (;;) {
      await db.query('BEGIN');
      try {
        await db.query(
          `INSERT INTO ${s}.run_builds (workspace, run_id, build) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
          [this.workspace, runId, candidates],
        );
        const pick = await db.query<{ build: string; attempts: number }>(
          `SELECT build, attempts FROM ${s}.run_builds rb
            WHERE workspace = $1 AND run_id = $2 AND build = ANY($3::text[]) AND NOT build = ANY($4::text[])
              AND (status = 'pending' OR (status = 'claimed' AND NOT EXISTS (
                    SELECT 1 FROM ${s}.leases l WHERE l.id = rb.lease_id AND l.expires_at > clock_timestamp())))
            ORDER BY attempts, build
            FOR UPDATE SKIP LOCKED LIMIT 1`,
          [this.workspace, runId, candidates, skipped],
        );
        const row = pick.rows[0];
        if (!row) {
          await db.query('COMMIT');
          return undefined;
        }
        if (row.attempts >= maxAttempts) {
          const reason = gaveUpReason(row.attempts);
          await db.query(
            `UPDATE ${s}.run_builds SET status = 'failed', reason = $4, updated_at = clock_timestamp() WHERE workspace = $1 AND run_id = $2 AND build = $3`,
            [this.workspace, runId, row.build, reason],
          );
          await db.query('COMMIT');
          onGiveUp(row.build, reason);
          continue;
        }
        const taken = await this.leases.takeInTransaction(db, this.leases.newInfo({ scope: 'build', build: row.build, operation, timeoutMs: 0 }));
        if ('holders' in taken) {
          // Someone outside the run holds this build (or the whole state): try another one.
          await db.query('COMMIT');
          skipped.push(row.build);
          continue;
        }
        await db.query(
          `UPDATE ${s}.run_builds SET status = 'claimed', attempts = attempts + 1, lease_id = $4, updated_at = clock_timestamp()
            WHERE workspace = $1 AND run_id = $2 AND build = $3`,
          [this.workspace, runId, row.build, taken.lease.info.id],
        );
        await db.query('COMMIT');
        return { build: row.build, attempt: row.attempts + 1, lease: taken.lease };
      } catch (err) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  }

  /** Returns false, changing nothing, when `lease` is no longer the claimer's. */
  async finish(db: pg.PoolClient, runId: string, build: string, lease: HeldLease, status: 'done' | 'failed'): Promise<boolean> {
    const r = await db.query(
      `UPDATE ${this.s}.run_builds SET status = $4, updated_at = clock_timestamp()
        WHERE workspace = $1 AND run_id = $2 AND build = $3 AND lease_id = $5 AND ${this.leases.fenceSql(6, 8)}`,
      [this.workspace, runId, build, status, lease.info.id, [lease.info.id], [lease.token], 1],
    );
    return r.rowCount === 1;
  }

  async progress(db: pg.PoolClient, runId: string): Promise<RunProgress> {
    const r = await db.query<{ status: RunBuildStatus; n: number }>(
      `SELECT status, count(*)::integer AS n FROM ${this.s}.run_builds WHERE workspace = $1 AND run_id = $2 GROUP BY status`,
      [this.workspace, runId],
    );
    const out: RunProgress = { pending: 0, claimed: 0, done: 0, failed: 0, holders: {}, failedBuilds: [], reasons: {} };
    for (const row of r.rows) out[row.status] = row.n;
    const h = await db.query<{ build: string; who: string }>(
      `SELECT rb.build, l.holder->>'who' AS who FROM ${this.s}.run_builds rb JOIN ${this.s}.leases l ON l.id = rb.lease_id
        WHERE rb.workspace = $1 AND rb.run_id = $2 AND rb.status = 'claimed' AND l.expires_at > clock_timestamp()`,
      [this.workspace, runId],
    );
    for (const row of h.rows) out.holders[row.build] = row.who;
    if (out.failed > 0) {
      const f = await db.query<{ build: string; reason: string | null }>(
        `SELECT build, reason FROM ${this.s}.run_builds WHERE workspace = $1 AND run_id = $2 AND status = 'failed' ORDER BY build`,
        [this.workspace, runId],
      );
      out.failedBuilds = f.rows.map((row) => row.build);
      for (const row of f.rows) if (row.reason !== null) out.reasons[row.build] = row.reason;
    }
    return out;
  }
}
