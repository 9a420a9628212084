/**
 * What the state adds to `builder build`: per-build fingerprints, the plan (up to date / resume /
 * fresh), build locks, and the resume points and checkpoint hooks the runner follows.
 *
 * Contracts:
 * - Every build that will run is locked (a `build` lock in the state backend) before it is
 *   planned, so two processes never plan or run the same build at once; builds that turn out to
 *   be up to date are unlocked right after planning. Different builds lock independently.
 * - Fingerprints are computed before anything runs, from configurations evaluated with the values
 *   only a running build knows (`build.Host`, …) left unknown; the state's lineage is the salt
 *   for sensitive values (see src/core/fingerprint.ts).
 * - A resumed build's recorded instance is checked with the builder's `reconnect` before the run;
 *   when it is gone, that is said, recorded, and the build falls back to a fresh one.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Artifact, StepContext } from '../sdk/component.js';
import type { BuildSpec, ResumePoint } from '../run/build-runner.js';
import { artifactFilesHash, sharedOutputFiles } from '../plan/fingerprint.js';
import { buildInputs } from '../plan/inputs.js';
import { freshInstead, planBuild, type BuildInputs, type BuildPlan } from '../plan/plan.js';
import { destroyingKeptMessage, keptInstanceGoneMessage, planMessage } from './messages.js';
import { beginBuild, checkpointHooks, type CheckpointTarget } from './checkpoints.js';
import type { Template } from '../template/model.js';
import type { BoundBuild } from '../plan/bind.js';
import type { StateManager } from '../state/manager.js';
import type { LockInfo } from '../state/interfaces.js';
import { recordVariables } from '../state/sensitive.js';
import type { ArtifactState, JsonValue } from '../state/types.js';

/** A bound build with its builder configuration prepared for this run: what the runner runs. */
export type RunnableBuild = BoundBuild & BuildSpec;

/** Prepares a bound build's builder configuration for the run `runUuid` (`build.PackerRunUUID`). */
export function runnable(b: BoundBuild, runUuid: string): RunnableBuild {
  return { ...b, builder: b.source.def, builderConfig: b.source.configure({ PackerRunUUID: runUuid }) };
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

/** A recorded artifact, as the runner reports it for a build that was not run again. */
export function recordedArtifact(a: ArtifactState): Artifact {
  return {
    builderId: a.builder_id,
    id: a.id,
    files: [...a.files],
    description: typeof a.metadata.description === 'string' ? a.metadata.description : a.id,
    state: {},
    async destroy() {
      // A recorded artifact belongs to an earlier run: it is never deleted by this one.
    },
  };
}

export interface StatefulRunOptions extends PlanRunOptions {
  /** Keep the instance of a failed build for a later resume (not under an explicit -on-error=cleanup). */
  keepInstanceOnFailure: boolean;
  /** Where the plan and warnings are said. */
  say(buildName: string, message: string): void;
  runUuid: string;
  /** Values of sensitive variables, kept out of the error texts the state records. */
  sensitive: readonly string[];
}

export interface StatefulRun {
  plans: Map<string, BuildPlan>;
  /** The builds to run (not up to date), in template order. */
  toRun: BuildSpec[];
  /** Recorded artifacts of up-to-date builds, by build name. */
  upToDate: Map<string, Artifact[]>;
  hooksFor(spec: BuildSpec): ReturnType<typeof checkpointHooks> | undefined;
  resumeFor(spec: BuildSpec): ResumePoint | undefined;
  /** Releases every build lock this run holds. */
  release(): Promise<void>;
}

/** What `planRun` needs: the builds of one run and the state to compare them with. */
export interface PlanRunOptions {
  template: Template;
  specs: readonly RunnableBuild[];
  state: StateManager;
  force: boolean;
  cwd: string;
  /** The step context for destroying kept instances and checking reconnection. */
  stepContext(spec: BuildSpec, signal: AbortSignal): StepContext;
  signal: AbortSignal;
}

/**
 * The plan of every build, read-only (for `builder build -plan`): no lock, no write. A kept
 * instance a build would resume on is checked with the builder's `reconnect`, as the run does
 * (as `terraform plan` refreshes what it plans against): one that is gone plans a fresh build.
 */
export async function planRun(o: PlanRunOptions): Promise<Map<string, BuildPlan>> {
  const plans = new Map<string, BuildPlan>();
  for (const spec of o.specs) {
    const { plan } = planOne(o, spec);
    const gone = await keptInstanceGone(o, spec, plan);
    plans.set(spec.name, gone ? goneFresh(plan) : plan);
  }
  return plans;
}

/** True when `plan` would resume on a kept instance that the builder can no longer reach. */
async function keptInstanceGone(o: PlanRunOptions, spec: BuildSpec, plan: BuildPlan): Promise<boolean> {
  if (plan.action !== 'resume' || !plan.instance || !spec.builder.reconnect) return false;
  const instance = { id: plan.instance.id, metadata: plan.instance.metadata };
  const ok = await spec.builder.reconnect(spec.builderConfig, instance, o.stepContext(spec, o.signal)).catch(() => false);
  return !ok;
}

/** The plan of a build whose kept instance is gone: from the start. */
function goneFresh(plan: BuildPlan): BuildPlan {
  return freshInstead(plan, 'the kept instance is gone');
}

function planOne(o: PlanRunOptions, spec: RunnableBuild): { plan: BuildPlan; inputs: BuildInputs } {
  const inputs = buildInputs(spec, o.state.lineage, o.cwd, { template: o.template });
  const outputs = sharedOutputFiles(inputs, o.cwd);
  const plan = planBuild(inputs, o.state.build(inputs.key), {
    force: o.force,
    artifactPresent: (a) => artifactPresent(a, o.cwd, outputs),
    outputPresent: (f) => existsSync(resolve(o.cwd, f)),
  });
  return { plan, inputs };
}

/** Hash of the template's files, for the state's `template.hash`. */
function templateHash(template: Template): string {
  const h = createHash('sha256');
  for (const f of template.files) h.update(`${f.filename}\n`).update(f.source).update('\n');
  return `sha256:${h.digest('hex')}`;
}

/**
 * Locks, plans and prepares the builds of one run. Throws the state's `StateLockedError` (naming
 * the holder) when a build is locked by another process and `-lock-timeout` ran out.
 */
export async function prepareStatefulRun(o: StatefulRunOptions): Promise<StatefulRun> {
  const locks: LockInfo[] = [];
  const release = async (): Promise<void> => {
    for (const l of locks.splice(0)) await o.state.unlock(l.id).catch(() => undefined);
  };
  try {
    for (const spec of o.specs) {
      const lock = await o.state.lockBuild(spec.name, 'build');
      if (lock) locks.push(lock);
    }
    await o.state.refresh();
    // The state's lineage salts hashes of sensitive values; a new state gets its lineage with this
    // first write (or the lineage of the state another process has just created).
    const values = Object.fromEntries([...o.template.variables].map(([k, v]) => [k, (v.value?.unmark().toJS() ?? null) as JsonValue]));
    const sensitiveNames = new Set([...o.template.variables].filter(([, v]) => v.sensitive).map(([k]) => k));
    const files = Object.fromEntries(o.template.files.map((f) => [f.filename, `sha256:${createHash('sha256').update(f.source).digest('hex')}`]));
    await o.state.setTemplate((salt) => ({
      path: o.template.path,
      hash: templateHash(o.template),
      variables: recordVariables(values, sensitiveNames, salt),
      files,
    }));
    // The run is recorded (`last_run`) when its first build starts: a run that finds every build up
    // to date changes nothing, and leaves the state — and its serial — as it was (as Terraform does).
    const started = new Date().toISOString();
    let runRecorded = false;

    const plans = new Map<string, BuildPlan>();
    const inputs = new Map<string, BuildInputs>();
    const toRun: BuildSpec[] = [];
    const upToDate = new Map<string, Artifact[]>();
    const targets = new Map<string, CheckpointTarget>();
    const resumes = new Map<string, ResumePoint>();
    for (const spec of o.specs) {
      const p = spec.planned;
      const { inputs: inp, plan: first } = planOne(o, spec);
      let plan = first;
      if (plan.instance && (await keptInstanceGone(o, spec, plan))) {
        const gone = plan.instance;
        o.say(spec.name, keptInstanceGoneMessage(gone));
        await o.state.update(inp.key, (b) => {
          if (b) {
            b.instance = null;
            b.error = `the kept instance ${gone.id} was gone when the build resumed`;
          }
        });
        plan = goneFresh(plan);
      }
      plans.set(spec.name, plan);
      inputs.set(spec.name, inp);
      o.say(spec.name, planMessage(plan));
      if (plan.action === 'up-to-date') {
        upToDate.set(spec.name, plan.artifacts.map(recordedArtifact));
        const lock = locks.findIndex((l) => l.build === spec.name);
        if (lock >= 0) await o.state.unlock(locks.splice(lock, 1)[0]!.id);
        continue;
      }
      if (plan.action === 'fresh' && plan.destroyInstance) {
        const kept = plan.destroyInstance;
        if (!inp.instanceOutlivesBuild) o.say(spec.name, destroyingKeptMessage(kept));
        await spec.builder.destroy(spec.builderConfig, { id: kept.id, metadata: kept.metadata }, o.stepContext(spec, o.signal));
      }
      const target: CheckpointTarget = {
        state: o.state,
        key: inp.key,
        buildName: p.build.name,
        builderType: p.source.type,
        builderId: spec.builder.builderId,
        inputs: inp,
        keepInstanceOnFailure: o.keepInstanceOnFailure && inp.canReconnect,
        instanceOutlivesBuild: inp.instanceOutlivesBuild,
        cwd: o.cwd,
        sensitive: o.sensitive,
      };
      if (!runRecorded) {
        // Not flushed (see checkpoints.ts): the build's first flushed record flushes it too.
        await o.state.setLastRun({ run_uuid: o.runUuid, started_at: started, completed_at: '' }, { durable: false });
        runRecorded = true;
      }
      await beginBuild(target, plan);
      targets.set(spec.name, target);
      if (plan.action === 'resume' && plan.instance) resumes.set(spec.name, resumePoint(plan, inp, o.state.build(inp.key)?.artifacts ?? []));
      toRun.push(spec);
    }
    const hooks = new Map([...targets].map(([name, t]) => [name, checkpointHooks(t)]));
    return {
      plans,
      toRun,
      upToDate,
      hooksFor: (spec) => hooks.get(spec.name),
      resumeFor: (spec) => resumes.get(spec.name),
      release,
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** The runner's resume point for a plan: skip the steps before the first to run. */
function resumePoint(plan: BuildPlan, inputs: BuildInputs, artifacts: readonly ArtifactState[]): ResumePoint {
  const skip = new Set<string>();
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
  return { instance: plan.instance ? { id: plan.instance.id, metadata: plan.instance.metadata } : undefined, skip, artifacts: recorded, skipChainsBefore: plan.firstChain };
}
