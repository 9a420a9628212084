/**
 * One stateful run: what the state adds to `builder build`. `StatefulRun` owns EVERY state write
 * of a run — build locks, the template record, the plan's layout, checkpoints (through the hooks
 * it hands the runner), artifacts, `last_run`, kept instances — and the keep/destroy policy,
 * decided once per build (`keepInstanceOnFailure`). The build command and the runner write
 * nothing to the state themselves.
 *
 * Contracts:
 * - Every build that will run is locked (a `build` lock in the state backend) before it is
 *   planned, so two processes never plan or run the same build at once; builds that turn out to
 *   be up to date are unlocked right after planning. Different builds lock independently. In a
 *   run shared by many runners (`claimed`) each build is planned once this process has claimed
 *   it (src/stateful/claims.ts), which also takes its lock.
 * - Fingerprints come from the bind pass's evaluation (src/plan/inputs.ts); the state's lineage is
 *   the salt for sensitive values.
 * - A resumed build's recorded instance is checked with the builder's `reconnect` before the run
 *   (and by `plan`, as `terraform plan` refreshes); when it is gone, that is said, recorded, and
 *   the build falls back to a fresh one.
 * - The state never forgets an instance that still exists: a recorded instance is cleared only
 *   when the runner reports it destroyed (`onInstanceDestroyed`) or a fresh build destroyed it
 *   first. What the runner destroys is decided by the same `keepInstanceOnFailure` value that
 *   marks the record `keep_on_failure`.
 * - A run in which every build is up to date writes nothing (the serial stays, as Terraform's
 *   apply with no changes).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Artifact, BuilderDef, StepContext } from '../sdk/component.js';
import type { BuildResult, BuildSpec, ResumePoint } from '../run/build-runner.js';
import type { OnErrorMode } from '../run/runner.js';
import type { BoundBuild } from '../plan/bind.js';
import { artifactFilesHash, sharedOutputFiles } from '../plan/fingerprint.js';
import { buildInputs } from '../plan/inputs.js';
import { freshInstead, planBuild, type BuildInputs, type BuildPlan } from '../plan/plan.js';
import type { Template } from '../template/model.js';
import type { StateManager } from '../state/manager.js';
import type { LockInfo } from '../state/interfaces.js';
import { recordVariables } from '../state/sensitive.js';
import type { ArtifactState, InstanceState, JsonValue, TemplateState } from '../state/types.js';
import { changedVariables } from '../plan/plan-json.js';
import { beginBuild, checkpointHooks, type CheckpointHooks, type CheckpointTarget } from './checkpoints.js';
import { destroyingKeptMessage, keptInstanceGoneMessage, planMessage } from './messages.js';
import { buildSnapshots, instanceLabels, snapshotLabels, supersededSnapshots, type LabelScope } from './snapshots.js';
import { chainHashes } from '../plan/chain.js';

/** A bound build with its builder configuration prepared for this run: what the runner runs. */
export type RunnableBuild = BoundBuild & BuildSpec;

/** Prepares a bound build's builder configuration for the run `runUuid` (`build.PackerRunUUID`). */
export function runnable(b: BoundBuild, runUuid: string): RunnableBuild {
  return { ...b, builder: b.source.def, builderConfig: b.source.configure({ PackerRunUUID: runUuid }) };
}

/**
 * The keep/destroy policy, in one place. A failed or interrupted build keeps its instance for a
 * later resume when its builder can reconnect to it — unless `-on-error=cleanup` was given, which
 * is Packer's behaviour (destroy it now; the next run starts fresh). A builder that cannot
 * reconnect gets Packer's cleanup by default: keeping what no run can use would only leak it.
 */
export function keepInstanceOnFailure(builder: Pick<BuilderDef<unknown>, 'reconnect'>, onError: OnErrorMode | undefined): boolean {
  if (onError === 'cleanup') return false;
  return typeof builder.reconnect === 'function';
}

/**
 * True when a recorded artifact's files still exist with the recorded content (the build's
 * post-processor output files, `sharedOutputs`, only exist: see artifactFilesHash).
 */
export function artifactPresent(a: ArtifactState, cwd: string, sharedOutputs: ReadonlySet<string> = new Set()): boolean {
  if (a.files.length === 0) return true;
  if (a.files.some((f) => sharedOutputs.has(resolve(cwd, f)) && !existsSync(resolve(cwd, f)))) return false;
  return artifactFilesHash(a.files, cwd, sharedOutputs) === a.hash;
}

/**
 * A recorded artifact, as the runner reports it for a build that was not run again: its
 * `destroy` does nothing (it belongs to an earlier run). With `removeFilesIn` (the builder's
 * artifact a resumed build re-runs post-processor chains on, BuildPlan.builderArtifact), it stands
 * for the builder's own artifact, which Packer's keep rules may delete: `destroy` removes its
 * recorded files (relative to that folder), as every builder whose artifact is local files does
 * (file, qemu, virtualbox… remove them). An artifact without files (an AMI, a docker image) is
 * something the builder alone knows how to remove, and the record does not say how: it is left
 * in place. Its `state` (Packer's artifact State) is not recorded and reads {}.
 */
export function recordedArtifact(a: ArtifactState, removeFilesIn?: string): Artifact {
  return {
    builderId: a.builder_id,
    id: a.id,
    files: [...a.files],
    description: typeof a.metadata.description === 'string' ? a.metadata.description : a.id,
    state: {},
    async destroy() {
      if (removeFilesIn === undefined) return;
      for (const f of a.files) await rm(resolve(removeFilesIn, f), { force: true });
    },
  };
}

/** What planning needs: the builds of one run and the state to compare them with. */
export interface PlanOptions {
  template: Template;
  builds: readonly RunnableBuild[];
  state: StateManager;
  cwd: string;
  /** `-replace`: true for a build to build from the start whatever the state says. */
  replace(buildName: string): boolean;
  /** Attribute paths left out of fingerprints (`-ignore-changes`, parsed by parseIgnorePaths). */
  ignore?: readonly string[];
  /** The step context for destroying kept instances and checking reconnection. */
  stepContext(build: RunnableBuild, signal: AbortSignal): StepContext;
  signal: AbortSignal;
  /** `-snapshots=false`: neither take snapshots nor restart from them (default: on). */
  snapshots?: boolean;
}

export interface StatefulRunOptions extends PlanOptions {
  /** `-on-error` as given on the command line; undefined: the default policy. */
  onError: OnErrorMode | undefined;
  /** Where the plan and state events are said, per build. */
  say(buildName: string, message: string): void;
  runUuid: string;
  /** Values of sensitive variables, kept out of the error texts the state records. */
  sensitive: readonly string[];
  /** The builds are claimed one at a time in a run shared by many runners (src/stateful/claims.ts):
   * `begin` locks and plans nothing, `prepareClaimed` plans each build once claimed. */
  claimed?: boolean;
  /** The workspace, for the labels on instances and snapshots (default "default"). */
  workspace?: string;
}

/** A build whose failed run left its instance (or its completed steps) for a later resume. */
export interface KeptBuild {
  build: RunnableBuild;
  instance: InstanceState;
}

/**
 * The plan of every build, read-only (`builder plan`, `build -plan`): no lock, no write. A kept
 * instance a build would resume on is checked with the builder's `reconnect`, as the run does
 * (as `terraform plan` refreshes what it plans against): one that is gone plans a fresh build.
 * A snapshot a build would restart from is checked too: one that is gone is named in the plan's
 * reason, and the plan falls back as the run would (an older snapshot, or fresh).
 */
export async function planBuilds(o: PlanOptions): Promise<Map<string, BuildPlan>> {
  const plans = new Map<string, BuildPlan>();
  const vars = variablesChanged(o);
  for (const b of o.builds) {
    const { plan: first } = planOne(o, b, vars);
    const { plan, gone } = await withoutGoneSnapshots(o, b, (await keptInstanceGone(o, b, first)) ? goneFresh(first) : first, vars);
    plans.set(b.name, gone.length === 0 ? plan : { ...plan, reason: `${plan.reason} (${gone.length === 1 ? 'the snapshot' : 'the snapshots'} ${gone.join(', ')} ${gone.length === 1 ? 'is' : 'are'} gone)` });
  }
  return plans;
}

/** A plan that would restart from a snapshot that is gone (removed by hand), planned again as if
 * the record did not hold it (an older snapshot, or fresh), until its snapshot exists; with the
 * ids found gone. Reads only: the caller decides what to say and record. */
async function withoutGoneSnapshots(o: PlanOptions, b: RunnableBuild, plan: BuildPlan, vars: ReadonlySet<string>): Promise<{ plan: BuildPlan; gone: string[] }> {
  const snapshots = b.builder.snapshots;
  const gone = new Set<string>();
  while (plan.action === 'restart-from-snapshot' && plan.snapshot && snapshots) {
    if (await snapshots.exists(plan.snapshot.id, o.stepContext(b, o.signal))) break;
    gone.add(plan.snapshot.id);
    plan = planOne(o, b, vars, gone).plan;
  }
  return { plan, gone: [...gone] };
}

/** True when `plan` would resume on a kept instance that the builder can no longer reach. */
async function keptInstanceGone(o: PlanOptions, b: RunnableBuild, plan: BuildPlan): Promise<boolean> {
  if (plan.action !== 'resume' || !plan.instance || !b.builder.reconnect) return false;
  const instance = { id: plan.instance.id, metadata: plan.instance.metadata };
  const ok = await b.builder.reconnect(b.builderConfig, instance, o.stepContext(b, o.signal)).catch(() => false);
  return !ok;
}

/** The plan of a build whose kept instance is gone: from the start. */
function goneFresh(plan: BuildPlan): BuildPlan {
  return freshInstead(plan, 'the kept instance is gone');
}

/** The plan of one build; snapshots in `goneSnapshots` are planned as if the record held none. */
function planOne(o: PlanOptions, b: RunnableBuild, vars: ReadonlySet<string>, goneSnapshots?: ReadonlySet<string>): { plan: BuildPlan; inputs: BuildInputs } {
  const inputs = buildInputs(b, o.state.salt, o.cwd, { template: o.template, ignore: o.ignore });
  if (o.snapshots === false) inputs.canSnapshot = false;
  const outputs = sharedOutputFiles(inputs, o.cwd);
  const record = o.state.build(inputs.key); // a copy
  for (const s of record?.provisioners ?? []) if (s.snapshot && goneSnapshots?.has(s.snapshot.id)) s.snapshot = null;
  const plan = planBuild(inputs, record, {
    force: o.replace(b.name),
    changedVariables: vars,
    artifactPresent: (a) => artifactPresent(a, o.cwd, outputs),
    outputPresent: (f) => existsSync(resolve(o.cwd, f)),
  });
  return { plan, inputs };
}

/** The state's record of a template: path, hash, variables (sensitive ones as salted hashes,
 * see recordVariables) and files. */
export function templateRecord(template: Template, salt: string): TemplateState {
  const values = Object.fromEntries([...template.variables].map(([k, v]) => [k, (v.value?.unmark().toJS() ?? null) as JsonValue]));
  const sensitiveNames = new Set([...template.variables].filter(([, v]) => v.sensitive).map(([k]) => k));
  const files = Object.fromEntries(template.files.map((f) => [f.filename, `sha256:${createHash('sha256').update(f.source).digest('hex')}`]));
  return { path: template.path, hash: templateHash(template), variables: recordVariables(values, sensitiveNames, salt), files };
}

/** The variables whose value changed since the template was last recorded in `state`, to name them
 * as the cause of a change. */
function variablesChanged(o: PlanOptions): Set<string> {
  const recorded = o.state.templateRecord();
  if (!recorded) return new Set();
  return changedVariables(recorded.variables, templateRecord(o.template, o.state.salt).variables);
}

/** Hash of the template's files, for the state's `template.hash`. */
function templateHash(template: Template): string {
  const h = createHash('sha256');
  for (const f of template.files) h.update(`${f.filename}\n`).update(f.source).update('\n');
  return `sha256:${h.digest('hex')}`;
}

interface Prepared {
  target: CheckpointTarget;
  hooks: CheckpointHooks;
  resume?: ResumePoint;
  keep: boolean;
  /** The snapshots the build's record held before this run (removed once superseded). */
  previousSnapshots: string[];
}

export class StatefulRun {
  /** The plan of every build of the run, by build name. */
  readonly plans = new Map<string, BuildPlan>();
  /** The builds to run (not up to date), in template order. */
  readonly toRun: RunnableBuild[] = [];
  /** Recorded artifacts of up-to-date builds, by build name. */
  readonly upToDate = new Map<string, Artifact[]>();
  private readonly prepared = new Map<string, Prepared>();
  private readonly locks: LockInfo[] = [];
  /** When this run recorded its start (`last_run`), if it did. */
  private runStarted: string | undefined;
  /** The variables whose value changed since the template was last recorded (before this run recorded it). */
  private vars: ReadonlySet<string> = new Set();

  private constructor(private readonly o: StatefulRunOptions) {}

  /**
   * Locks, plans and lays out the builds of one run. Throws the state's `StateLockedError`
   * (naming the holder) when a build is locked by another process and `-lock-timeout` ran out;
   * every lock taken is released again on any error.
   */
  static async begin(o: StatefulRunOptions): Promise<StatefulRun> {
    const run = new StatefulRun(o);
    try {
      if (o.claimed) {
        await o.state.refresh();
        run.vars = variablesChanged(o);
        await run.recordTemplate();
      } else await run.lockAndPlan();
      return run;
    } catch (err) {
      await run.release();
      throw err;
    }
  }

  /** The checkpoint hooks of a build that runs. */
  hooksFor(b: BuildSpec): CheckpointHooks | undefined {
    return this.prepared.get(b.name)?.hooks;
  }

  /** Where a resumed build starts. */
  resumeFor(b: BuildSpec): ResumePoint | undefined {
    return this.prepared.get(b.name)?.resume;
  }

  /** The id of the lock this run holds on a build (for the lease-loss self-stop, lease-guard.ts). */
  lockIdFor(b: BuildSpec): string | undefined {
    return this.locks.find((l) => l.build === b.name)?.id;
  }

  /** Whether the runner keeps the instance of this build when it fails (keepInstanceOnFailure). */
  keepFor(b: BuildSpec): boolean {
    return this.prepared.get(b.name)?.keep ?? false;
  }

  /**
   * Plans and lays out a build this process has claimed in a shared run (its lease is held):
   * with the latest state, since another runner may have worked on it. Up-to-date builds are
   * added to `upToDate`, the others to `toRun`.
   */
  async prepareClaimed(b: RunnableBuild): Promise<BuildPlan> {
    await this.o.state.refresh();
    return this.prepare(b);
  }

  /** Records a build's final artifacts once it ended (nothing for a build given up: its lease is
   * lost); a completed build's superseded snapshots (held before the run, held by no record now)
   * are removed. */
  async buildEnded(b: BuildSpec, result: BuildResult): Promise<void> {
    if (result.abandoned) return;
    const p = this.prepared.get(b.name);
    await p?.hooks.recordArtifacts(result.artifacts, result.builderArtifactKept);
    const snapshots = b.builder.snapshots;
    if (!p || result.error || !snapshots) return;
    const gone = supersededSnapshots(p.previousSnapshots, this.o.state);
    if (gone.length === 0) return;
    const ctx = this.o.stepContext(b as RunnableBuild, this.o.signal);
    const failed: string[] = [];
    for (const id of gone) await snapshots.remove(id, ctx).catch(() => failed.push(id));
    this.o.say(b.name, `Snapshots superseded by this build removed: ${gone.length - failed.length}${failed.length > 0 ? ` (could not remove ${failed.join(', ')}; \`builder snapshots prune\` retries)` : ''}.`);
  }

  /** The labels of a build's instance (StepContext.instanceLabels). */
  instanceLabelsFor(b: BuildSpec): Record<string, string> {
    return instanceLabels(this.labelScope(b));
  }

  /** The labels of the snapshot after each provisioner of a build; undefined when it takes none. */
  snapshotLabelsFor(b: BuildSpec): ((index: number) => Record<string, string>) | undefined {
    const inputs = this.prepared.get(b.name)?.target.inputs;
    if (!inputs?.canSnapshot) return undefined;
    const chains = chainHashes(inputs.sourceFingerprint, inputs.provisioners);
    const scope = this.labelScope(b);
    return (i) => snapshotLabels(scope, chains[i] ?? '', i);
  }

  private labelScope(b: BuildSpec): LabelScope {
    return { lineage: this.o.state.lineage, workspace: this.o.workspace ?? 'default', template: this.o.state.template ?? '', build: b.name };
  }

  /**
   * Ends the run: records its end (`last_run`, flushed by the manager's close) and returns the
   * builds whose failed run kept an instance to resume on, for the closing messages.
   */
  async end(results: ReadonlyMap<string, BuildResult>): Promise<KeptBuild[]> {
    const { state } = this.o;
    if (this.runStarted !== undefined) {
      // This run's own record: another run on the same state may have recorded its start since.
      await state.setLastRun({ run_uuid: this.o.runUuid, started_at: this.runStarted, completed_at: new Date().toISOString() }, { durable: false });
    }
    const kept: KeptBuild[] = [];
    for (const b of this.toRun) {
      const p = this.prepared.get(b.name);
      const rec = p && !results.get(b.name)?.abandoned ? state.build(p.target.key) : undefined;
      if (results.get(b.name)?.error && rec?.instance?.keep_on_failure) kept.push({ build: b, instance: rec.instance });
    }
    return kept;
  }

  /** Releases every build lock this run holds. */
  async release(): Promise<void> {
    for (const l of this.locks.splice(0)) await this.o.state.unlock(l.id).catch(() => undefined);
  }

  private async lockAndPlan(): Promise<void> {
    const o = this.o;
    for (const b of o.builds) {
      const lock = await o.state.lockBuild(b.name, 'build');
      if (lock) this.locks.push(lock);
    }
    await o.state.refresh();
    this.vars = variablesChanged(o);
    await this.recordTemplate();
    for (const b of o.builds) {
      if ((await this.prepare(b)).action !== 'up-to-date') continue;
      const i = this.locks.findIndex((l) => l.build === b.name);
      if (i >= 0) await o.state.unlock(this.locks.splice(i, 1)[0]!.id);
    }
  }

  /** Plans one locked (or claimed) build, says the plan, and lays out the record of one that runs. */
  private async prepare(b: RunnableBuild): Promise<BuildPlan> {
    const o = this.o;
    const { inputs, plan: first } = planOne(o, b, this.vars);
    const plan = await this.checkSnapshot(b, await this.checkKeptInstance(b, inputs, first), this.vars);
    const previousSnapshots = buildSnapshots(o.state.build(inputs.key));
    this.plans.set(b.name, plan);
    o.say(b.name, planMessage(plan));
    if (plan.action === 'up-to-date') {
      this.upToDate.set(b.name, plan.artifacts.map((a) => recordedArtifact(a)));
      return plan;
    }
    await this.destroyLeftover(b, inputs, plan);
    await this.recordRunStart();
    const keep = keepInstanceOnFailure(b.builder, o.onError);
    const target: CheckpointTarget = {
      state: o.state,
      key: inputs.key,
      buildName: b.planned.build.name,
      builderType: b.builderType,
      builderId: b.builder.builderId,
      inputs,
      keepInstanceOnFailure: keep,
      instanceOutlivesBuild: inputs.instanceOutlivesBuild,
      cwd: o.cwd,
      sensitive: o.sensitive,
    };
    await beginBuild(target, plan);
    const resume =
      plan.action === 'resume' && (plan.instance || plan.builderArtifact)
        ? resumePoint(plan, inputs, o.state.build(inputs.key)?.artifacts ?? [], o.cwd)
        : plan.action === 'restart-from-snapshot' && plan.snapshot
          ? { skip: new Set(Array.from({ length: plan.firstProvisioner }, (_, i) => `provisioner.${i}`)), snapshot: plan.snapshot.id }
          : undefined;
    this.prepared.set(b.name, { target, hooks: checkpointHooks(target), resume, keep, previousSnapshots });
    this.toRun.push(b);
    return plan;
  }

  /** The template record (see templateRecord). The state's lineage salts it: a new state gets
   * its lineage with this first write (or the lineage of the state another process has just
   * created). */
  private async recordTemplate(): Promise<void> {
    await this.o.state.setTemplate((salt) => templateRecord(this.o.template, salt));
  }

  /** The run is recorded (`last_run`) when its first build starts: a run that finds every build up
   * to date changes nothing. Not flushed (see checkpoints.ts): the build's first flushed record
   * flushes it too. */
  private async recordRunStart(): Promise<void> {
    if (this.runStarted !== undefined) return;
    this.runStarted = new Date().toISOString();
    await this.o.state.setLastRun({ run_uuid: this.o.runUuid, started_at: this.runStarted, completed_at: '' }, { durable: false });
  }

  /** A plan that would resume on a kept instance the builder can no longer reach: said, recorded,
   * and planned fresh instead. */
  private async checkKeptInstance(b: RunnableBuild, inputs: BuildInputs, plan: BuildPlan): Promise<BuildPlan> {
    if (!plan.instance || !(await keptInstanceGone(this.o, b, plan))) return plan;
    const gone = plan.instance;
    this.o.say(b.name, keptInstanceGoneMessage(gone));
    await this.o.state.update(inputs.key, (rec) => {
      if (rec) {
        rec.instance = null;
        rec.error = `the kept instance ${gone.id} was gone when the build resumed`;
      }
    });
    return goneFresh(plan);
  }

  /** A plan that would restart from a snapshot that is gone (removed by hand): said, the snapshot
   * forgotten, and planned again (an older snapshot, or fresh). */
  private async checkSnapshot(b: RunnableBuild, plan: BuildPlan, vars: ReadonlySet<string>): Promise<BuildPlan> {
    const checked = await withoutGoneSnapshots(this.o, b, plan, vars);
    for (const id of checked.gone) {
      this.o.say(b.name, `Snapshot ${id} is gone; planning without it.`);
      await this.o.state.update(plan.key, (rec) => {
        for (const s of rec?.provisioners ?? []) if (s.snapshot?.id === id) s.snapshot = null;
      });
    }
    return checked.plan;
  }

  /** A fresh build (or a restart from a snapshot) first destroys an instance a previous run left
   * (kept for a resume, or left by `-on-error=abort`), unless the instance is the host the builder
   * connects to. */
  private async destroyLeftover(b: RunnableBuild, inputs: BuildInputs, plan: BuildPlan): Promise<void> {
    if ((plan.action !== 'fresh' && plan.action !== 'restart-from-snapshot') || inputs.instanceOutlivesBuild) return;
    const left = plan.destroyInstance ?? this.o.state.build(inputs.key)?.instance ?? undefined;
    if (!left) return;
    this.o.say(b.name, destroyingKeptMessage(left));
    await b.builder.destroy(b.builderConfig, { id: left.id, metadata: left.metadata }, this.o.stepContext(b, this.o.signal));
    await this.o.state.update(inputs.key, (rec) => {
      if (rec?.instance?.id === left.id) rec.instance = null;
    });
  }
}

/** The runner's resume point for a plan: skip the steps before the first to run. */
function resumePoint(plan: BuildPlan, inputs: BuildInputs, artifacts: readonly ArtifactState[], cwd: string): ResumePoint {
  const skip = new Set<string>();
  // On the builder's recorded artifact: no instance is created or connected to.
  if (plan.builderArtifact) for (const id of ['create', 'connect', 'provision']) skip.add(id);
  for (let i = 0; i < plan.firstProvisioner; i++) skip.add(`provisioner.${i}`);
  const recorded = new Map<string, Artifact>();
  inputs.postProcessorChains.forEach((chain, c) => {
    if (c >= plan.firstChain) return;
    chain.forEach((_, i) => skip.add(`post-processor.${c}.${i}`));
  });
  for (const a of artifacts) {
    const step = typeof a.metadata.step === 'string' ? a.metadata.step : '';
    if (step.startsWith('post-processor.')) recorded.set(step, recordedArtifact(a));
  }
  if (plan.builderArtifact) recorded.set('finish', recordedArtifact(plan.builderArtifact, cwd));
  return { instance: plan.instance ? { id: plan.instance.id, metadata: plan.instance.metadata } : undefined, skip, artifacts: recorded, skipChainsBefore: plan.firstChain };
}
