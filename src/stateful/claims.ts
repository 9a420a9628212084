/**
 * A run shared by many runners (issue 11, `builder build -run-id=ID` on a PostgreSQL state):
 * several `builder build` processes — on one machine or many — started with the same template
 * and inputs split its builds between them.
 *
 * Contracts:
 * - `join` records the run, keyed by its id, with a hash of its inputs (every selected build's
 *   name and fingerprints, salted by the state's lineage): a runner whose inputs differ is refused
 *   with a message naming both hashes (STATE_RUN_INPUTS_DIFFER).
 * - `next()` is the runner's source of builds (runBuilds' `nextBuild`): it claims one build at a
 *   time (`FOR UPDATE SKIP LOCKED` plus the build's lease, src/state/postgres/runs.ts), so each
 *   build is claimed by exactly one runner; it then plans the claimed build with the latest state
 *   (StatefulRun.prepareClaimed) — an up-to-date build is marked done and the next one claimed.
 *   When nothing is left to claim but builds are still held by other runners, it says who holds
 *   them, waits, and tries again: a build whose runner died (SIGKILL, a frozen machine) is claimed
 *   once its lease expired on the server's clock — a takeover, said as such — and planned like
 *   any recorded build, so it resumes on its kept instance. A build whose runners keep dying is
 *   marked failed after `maxAttempts` claims (`build -max-attempts`, default 3), with a reason
 *   naming the attempts, said by the runner that gave it up and by every runner's outcome.
 *   `next()` resolves to undefined only when every build of the run is done or failed, so every
 *   runner's exit code can report the whole run.
 * - `ended(build, result)` marks a build done or failed, only while this runner's claim is
 *   still its own (fenced; a runner that lost its claim changes nothing). A build given up after
 *   a lost lease (BuildResult.abandoned) is left claimed: its lease expires and another runner
 *   takes it over.
 * - `outcome()` is the run's final count, whichever runner built what, with the line that says it
 *   and the exit code every runner gives (1 when a build failed or is left unfinished).
 * - `checkSharedRunFlags` / `leaseOptions`: the build command's -run-id, -runner and -lease-ttl,
 *   checked and turned into how this runner holds its leases.
 */
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { UsageError, UserError } from '../errors.js';
import type { BuildResult } from '../run/build-runner.js';
import { buildInputs } from '../plan/inputs.js';
import type { Template } from '../template/model.js';
import { buildKey } from '../state/identity.js';
import type { LockInfo } from '../state/interfaces.js';
import type { StateManager } from '../state/manager.js';
import type { LeaseOptions } from '../state/open.js';
import type { PostgresStateClient, RunClaim } from '../state/postgres/client.js';
import type { RunProgress } from '../state/postgres/runs.js';
import type { RunnableBuild, StatefulRun } from './stateful-run.js';

/** What a shared run needs of the state backend (the PostgreSQL client has it). */
export type SharedRunClient = Pick<PostgresStateClient, 'joinRun' | 'claimBuild' | 'finishBuild' | 'runProgress'>;

export interface SharedRunOptions {
  runId: string;
  state: StateManager;
  run: StatefulRun;
  /** The selected builds (the same for every runner of the run). */
  builds: readonly RunnableBuild[];
  template: Template;
  cwd: string;
  ignore?: readonly string[];
  /** A line of this runner's own output (claims, takeovers, waiting). */
  note(message: string): void;
  /** How long to wait between looks at a run whose remaining builds other runners hold. */
  pollMs: number;
  /** Claims of one build before it is marked failed (a build that keeps crashing its runners);
   * DEFAULT_MAX_ATTEMPTS when not given. */
  maxAttempts?: number;
  signal: AbortSignal;
}

/** -run-id, -runner and -lease-ttl are checked before anything is loaded. */
export function checkSharedRunFlags(runId: string | undefined, runner: string | undefined, ttl: number | undefined, lock: boolean, maxAttempts?: number): void {
  if (maxAttempts !== undefined && (maxAttempts < 1 || runId === undefined)) throw new UsageError('-max-attempts must be at least 1, and is only used with -run-id');
  if (runId !== undefined && !/^[A-Za-z0-9._:-]{1,100}$/.test(runId)) throw new UsageError(`-run-id must be 1 to 100 letters, digits, ".", "_", ":" or "-" (got "${runId}")`);
  if (runner !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(runner)) throw new UsageError(`-runner must be 1 to 64 letters, digits, ".", "_" or "-" (got "${runner}")`);
  if (ttl !== undefined && ttl < 1000) throw new UsageError('-lease-ttl must be at least 1s');
  if (runId !== undefined && !lock) throw new UsageError('-run-id shares the run through the state\'s locks: it cannot be used with -lock=false');
}

/** How this runner holds its PostgreSQL leases: its name (a runner is another machine: its locks
 * are never judged by this host's processes, they only expire), the run, the TTL, the self-stop. */
export function leaseOptions(runId: string | undefined, runner: string | undefined, ttlMs: number | undefined, onLost: (l: LockInfo) => void): LeaseOptions {
  const holder = runner === undefined ? (runId === undefined ? undefined : { run: runId }) : { who: `${userName()}@${runner}`, host: runner, run: runId };
  return { ttlMs, holder, onLost };
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** The client of `state` when it can share runs, else a user error saying what is needed. */
export function sharedRunClient(state: StateManager): SharedRunClient {
  const c = state.client as Partial<SharedRunClient>;
  if (typeof c.claimBuild !== 'function' || typeof c.joinRun !== 'function' || typeof c.finishBuild !== 'function' || typeof c.runProgress !== 'function') {
    throw new UserError(
      'STATE_RUN_UNSUPPORTED',
      `-run-id shares a run between runners through the state, and the state ${state.location} cannot do that: use a PostgreSQL state ` +
        '(-state=postgres://… or BUILDER_STATE) that every runner reaches.',
    );
  }
  return c as SharedRunClient;
}

/** The hash of a run's inputs: every selected build's name and fingerprints (salted by the lineage). */
export function runInputsHash(o: Pick<SharedRunOptions, 'builds' | 'state' | 'template' | 'cwd' | 'ignore'>): string {
  const h = createHash('sha256');
  for (const b of [...o.builds].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    const i = buildInputs(b, o.state.lineage, o.cwd, { template: o.template, ignore: o.ignore });
    h.update(JSON.stringify([b.name, i.sourceFingerprint, i.provisioners.map((p) => p.fingerprint), i.postProcessorChains.map((c) => c.map((p) => p.fingerprint))]));
    h.update('\n');
  }
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

export class SharedRun {
  /** Builds found up to date when claimed (reported with their recorded artifacts). */
  readonly upToDate: { build: RunnableBuild; artifacts: NonNullable<ReturnType<StatefulRun['upToDate']['get']>> }[] = [];
  private readonly claims = new Map<string, RunClaim>();
  private readonly byKey: Map<string, RunnableBuild>;
  private lastWaiting = '';

  private constructor(
    private readonly o: SharedRunOptions,
    private readonly client: SharedRunClient,
  ) {
    this.byKey = new Map(o.builds.map((b) => [this.keyOf(b), b]));
  }

  /** Joins (or starts) the run; refused when this runner's inputs differ from the run's. */
  static async join(o: SharedRunOptions): Promise<SharedRun> {
    const client = sharedRunClient(o.state);
    await client.joinRun(o.runId, runInputsHash(o));
    return new SharedRun(o, client);
  }

  /** The id of the lease under which this runner holds build `name`, if it does. */
  lockIdFor(name: string): string | undefined {
    return this.claims.get(name)?.lock.id;
  }

  /** The next build this runner runs (see the module comment); undefined once the run is over. */
  async next(): Promise<RunnableBuild | undefined> {
    const o = this.o;
    while (!o.signal.aborted) {
      const claim = await this.client.claimBuild(o.runId, [...this.byKey.keys()], {
        operation: 'build',
        maxAttempts: o.maxAttempts,
        onGiveUp: (key, reason) => o.note(`${this.nameOf(key)} failed: ${reason}`),
      });
      if (claim) {
        const b = this.byKey.get(claim.build)!;
        this.claims.set(b.name, claim);
        if (claim.attempt > 1) {
          o.note(`${b.name}: taking the build over (claim ${claim.attempt}): the runner that held it stopped renewing its lock.`);
        }
        let plan;
        try {
          plan = await o.run.prepareClaimed(b);
        } catch (err) {
          await this.client.finishBuild(o.runId, claim, 'failed').catch(() => undefined);
          throw err;
        }
        if (plan.action !== 'up-to-date') return b;
        await this.client.finishBuild(o.runId, claim, 'done');
        this.upToDate.push({ build: b, artifacts: o.run.upToDate.get(b.name) ?? [] });
        continue;
      }
      const p = await this.client.runProgress(o.runId);
      if (p.pending + p.claimed === 0) return undefined;
      this.sayWaiting(p);
      await delay(o.pollMs, undefined, { signal: o.signal }).catch(() => undefined);
    }
    return undefined;
  }

  /** Marks a build this runner ran done or failed (see the module comment). */
  async ended(b: { name: string }, result: BuildResult): Promise<void> {
    const claim = this.claims.get(b.name);
    if (!claim || result.abandoned) return;
    this.claims.delete(b.name);
    const ok = await this.client.finishBuild(this.o.runId, claim, result.error ? 'failed' : 'done');
    if (!ok) this.o.note(`${b.name}: this runner's claim was lost before the build ended; the runner that took it over decides its outcome.`);
  }

  /** The run's result, whichever runner ran its builds: counts by status, the failed builds by
   * name, the line that says it, and the exit code every runner gives. */
  async outcome(): Promise<RunProgress & { summary: string; exitCode: number }> {
    const p = await this.client.runProgress(this.o.runId);
    const failed = p.failedBuilds.map((k) => this.nameOf(k));
    const reasons = Object.fromEntries(Object.entries(p.reasons).map(([k, r]) => [this.nameOf(k), r]));
    const why = Object.entries(reasons).map(([name, r]) => `\n${name}: ${r}`);
    const summary = `${p.done} build(s) done, ${p.failed} failed${failed.length > 0 ? ` (${failed.join(', ')})` : ''}, across all its runners.${why.sort().join('')}`;
    return { ...p, failedBuilds: failed, reasons, summary, exitCode: p.failed > 0 || p.pending + p.claimed > 0 ? 1 : 0 };
  }

  private keyOf(b: RunnableBuild): string {
    return this.o.state.template === undefined ? b.name : buildKey(this.o.state.template, b.name);
  }

  private nameOf(key: string): string {
    return this.byKey.get(key)?.name ?? key;
  }

  /** Says which builds other runners hold, when that changed since it was last said. */
  private sayWaiting(p: RunProgress): void {
    const held = Object.entries(p.holders)
      .map(([key, who]) => `${this.nameOf(key)} (${who})`)
      .sort();
    const expired = p.claimed - held.length;
    const line =
      `waiting: ${p.done + p.failed} of ${p.pending + p.claimed + p.done + p.failed} build(s) ended; ` +
      (held.length > 0 ? `held by other runners: ${held.join(', ')}` : 'none held by a live runner') +
      (expired > 0 ? `; ${expired} whose runner stopped renewing its lock, to take over` : '') +
      '.';
    if (line === this.lastWaiting) return;
    this.lastWaiting = line;
    this.o.note(line);
  }
}
