/**
 * The planner: compares a build's current inputs with what the state recorded and decides, for
 * each selected build, one of
 *   - up-to-date: complete, same chain, artifacts and post-processor outputs still present — skip;
 *   - resume:     continue on the recorded instance at the first step that did not complete (or
 *                 the first post-processor chain that must run again), skipping the steps before;
 *   - restart-from-snapshot: start a new instance from the newest snapshot whose chain matches the
 *                 template's, at the step after it (builders that offer snapshots);
 *   - fresh:      no usable record, instance or snapshot, or -replace — destroy a kept instance first.
 * The plan is data: `builder build` prints it (src/stateful/messages.ts), `plan -json` prints
 * planToJson (src/plan/plan-json.ts), tests read it, and the runner follows it.
 *
 * The rules (docs/design.md, "Stateful builds"), from chains (src/plan/chain.ts): an instance
 * whose provisioners 1..k completed may continue at k+1 only when the source and provisioners
 * 1..k of the template are those it went through.
 *   - failed or interrupted build: the resume point is the first provisioner that did not
 *     complete (`running` = interrupted, `failed`, `pending`). Unchanged steps before it → resume
 *     there, whatever changed at or after it. A change before it (a step changed, added, removed or
 *     moved) → the kept instance cannot serve: snapshot or fresh. No kept instance, or a builder
 *     that cannot reconnect → snapshot or fresh.
 *   - completed build: every provisioner unchanged → up to date, or resume at the first
 *     post-processor chain that changed or whose output file is gone (on the recorded instance
 *     when it outlives the build and can be reconnected; else snapshot or fresh). Provisioners
 *     only appended at the end → resume at the first new one on such an instance. Any other
 *     provisioner change → snapshot or fresh: the instance already went through the later steps.
 *   - the source changed → fresh (no snapshot can match: the source starts every chain).
 *   - "snapshot or fresh": restart from the newest snapshot whose chain equals the template's
 *     chain through its step, when the builder offers snapshots (BuildInputs.canSnapshot); else
 *     fresh. Snapshots are never preferred to a valid resume.
 *
 * Step order is provisioners 0..n-1, then post-processor chains 0..m-1. A post-processor chain is
 * the unit of re-running post-processors: each post-processor's input is the previous one's
 * artifact, so when one post-processor must run, its whole chain runs (and all chains after it).
 */
import type { ArtifactState, BuildState, InstanceState, StepState } from '../state/types.js';
import { chainHashes, sameStep } from './chain.js';
import { changeText, diffSteps, partChanges, type CurrentStep, type PartCause, type StepChange } from './changes.js';

export interface PlannedStep extends CurrentStep {
  type: string;
  name: string;
  fingerprint: string;
  /** Files a post-processor writes besides its artifact (PostProcessorDef.outputFiles). */
  outputs?: readonly string[];
}

export interface BuildInputs {
  /** The key of the build in the state. */
  key: string;
  /** The name printed in output. */
  name: string;
  sourceFingerprint: string;
  /** "source.<type>.<name>", for messages. Default "source.<builderType>". */
  sourceLabel?: string;
  /** Per-part hashes of the source (as PlannedStep.inputs), and why parts may change. */
  sourceInputs?: Readonly<Record<string, string>>;
  sourceCauses?: Readonly<Record<string, PartCause>>;
  provisioners: readonly PlannedStep[];
  /** Post-processor chains, in order. */
  postProcessorChains: readonly (readonly PlannedStep[])[];
  /** The builder can reconnect to an instance it recorded (BuilderDef.reconnect exists). */
  canReconnect: boolean;
  /** The instance outlives a completed build (null: the host it connects to). */
  instanceOutlivesBuild: boolean;
  /** The builder can start an instance from a snapshot a step recorded (StepState.snapshot). */
  canSnapshot?: boolean;
  /** The builder's type, for messages. */
  builderType: string;
  /** The plugin serving the builder ("packer 1.6.6"), when one does: its instance lives only in
   * the run's plugin call, so a later run cannot resume on it (BuilderDef.plugin). */
  builderPlugin?: string;
}

export type PlanAction = 'up-to-date' | 'resume' | 'fresh' | 'restart-from-snapshot';

/** One step of the build and whether this run runs it. */
export interface PlanStep {
  /** "provisioner 2 (shell-local)", "post-processor 1 (manifest)" (post-processors numbered flat). */
  label: string;
  action: 'skip' | 'run';
}

/** The snapshot a `restart-from-snapshot` plan starts from. */
export interface PlanSnapshot {
  id: string;
  /** Index of the provisioner after which it was taken (0-based). */
  step: number;
  /** How many provisioners it saves (= step + 1). */
  saves: number;
}

export interface BuildPlan {
  key: string;
  name: string;
  action: PlanAction;
  /** Why, in one sentence, for the output. */
  reason: string;
  /** For resume and restart-from-snapshot: the first provisioner to run (= number of provisioners
   * when none must run). */
  firstProvisioner: number;
  /** For resume: the first post-processor chain to run (= number of chains when none must run). */
  firstChain: number;
  /** For resume: the recorded instance to reconnect to. */
  instance?: InstanceState;
  /** For resume without an instance: the builder's recorded artifact (ArtifactState whose
   * metadata.step is "finish") the post-processor chains from `firstChain` re-run on. */
  builderArtifact?: ArtifactState;
  /** For fresh and restart-from-snapshot: a kept instance to destroy before building. */
  destroyInstance?: InstanceState;
  /** For restart-from-snapshot: the snapshot to start from. */
  snapshot?: PlanSnapshot;
  /** For up-to-date: the recorded artifacts, reported as the build's result. */
  artifacts: ArtifactState[];
  /** The builder's instance outlives the build (null: the host it connects to), for messages. */
  instanceOutlivesBuild: boolean;
  /** Every step of the build in order, run or skipped by this plan. */
  steps: PlanStep[];
  /** What differs from the record, named (empty without a record). */
  changes: StepChange[];
  /** As BuildInputs.builderPlugin. */
  builderPlugin?: string;
}

export interface PlanOptions {
  /** `-replace` names the build: build it from the start, whatever the state records. */
  force: boolean;
  /** True when the recorded artifact's files still exist with the recorded hash. */
  artifactPresent(artifact: ArtifactState): boolean;
  /** True when a post-processor's output file (PlannedStep.outputs) exists. Default: always. */
  outputPresent?(path: string): boolean;
  /** Variables whose value differs from the recorded one (see changedVariables), to name them. */
  changedVariables?: ReadonlySet<string>;
}

export function provisionerLabel(s: { type: string; name: string }, index: number): string {
  return `provisioner ${index + 1} (${s.name || s.type})`;
}

export function postProcessorLabel(s: { type: string; name: string }, index: number): string {
  return `post-processor ${index + 1} (${s.name || s.type})`;
}

const isDone = (s: StepState | undefined): boolean => s !== undefined && (s.status === 'complete' || s.status === 'skipped');

/** Why the recorded step at the resume point must run: it failed, was interrupted, never ran, or changed. */
function resumeWhy(index: number, rec: StepState | undefined, cur: PlannedStep): string {
  const label = provisionerLabel(cur, index);
  if (!rec) return `${label} is new`;
  if (!sameStep(rec, cur)) return `${label} changed`;
  switch (rec.status) {
    case 'running':
      return `${label} was interrupted`;
    case 'failed':
      return `${label} failed${rec.error ? ` (${rec.error})` : ''}`;
    default:
      return `${label} has not run yet`;
  }
}

/**
 * The first post-processor chain that must run again, with why; undefined when every
 * post-processor is done and unchanged and every output file of one that ran is still there.
 */
function firstChainToRun(record: BuildState, inputs: BuildInputs, outputPresent: (path: string) => boolean): { chain: number; why: string } | undefined {
  let flat = 0;
  for (let c = 0; c < inputs.postProcessorChains.length; c++) {
    for (const cur of inputs.postProcessorChains[c]!) {
      const rec = record.post_processors[flat];
      const label = postProcessorLabel(cur, flat);
      if (!rec) return { chain: c, why: `${label} is new` };
      if (!sameStep(rec, cur)) return { chain: c, why: `${label} changed` };
      if (!isDone(rec)) return { chain: c, why: rec.status === 'running' ? `${label} was interrupted` : rec.status === 'failed' ? `${label} failed${rec.error ? ` (${rec.error})` : ''}` : `${label} has not run yet` };
      const gone = rec.status === 'complete' ? cur.outputs?.find((f) => !outputPresent(f)) : undefined;
      if (gone !== undefined) return { chain: c, why: `${label} wrote ${gone}, which is gone` };
      flat++;
    }
  }
  if (record.post_processors.length > flat) return { chain: inputs.postProcessorChains.length, why: 'a post-processor was removed' };
  return undefined;
}

/** The builder's own artifact as the state recorded it (kept by the last run), if it is. */
export function builderArtifactRecord(record: BuildState): ArtifactState | undefined {
  return record.artifacts.find((a) => a.metadata.step === 'finish');
}

/** Every difference between the record and the inputs, named. */
function changesOf(record: BuildState, inputs: BuildInputs, options: PlanOptions): StepChange[] {
  const vars = options.changedVariables ?? new Set<string>();
  const out: StepChange[] = [];
  if (record.fingerprint !== inputs.sourceFingerprint) {
    const subject = inputs.sourceLabel ?? `source.${inputs.builderType}`;
    out.push({ kind: 'changed', subject, index: 0, recordedIndex: 0, details: partChanges(record.inputs, inputs.sourceInputs, inputs.sourceCauses, vars) });
  }
  out.push(...diffSteps(record.provisioners, inputs.provisioners, provisionerLabel, vars));
  const posts = inputs.postProcessorChains.flat();
  out.push(...diffSteps(record.post_processors, posts, postProcessorLabel, vars));
  const outputPresent = options.outputPresent ?? (() => true);
  posts.forEach((cur, i) => {
    const rec = record.post_processors[i];
    if (!rec || rec.status !== 'complete' || !sameStep(rec, cur)) return;
    const gone = (cur.outputs ?? []).filter((f) => !outputPresent(f));
    if (gone.length > 0) out.push({ kind: 'output-gone', subject: postProcessorLabel(cur, i), index: i, recordedIndex: i, details: gone });
  });
  return out;
}

/** The newest snapshot whose chain matches the template's chain through its step. */
function matchingSnapshot(record: BuildState, inputs: BuildInputs): PlanSnapshot | undefined {
  if (!inputs.canSnapshot) return undefined;
  const chains = chainHashes(inputs.sourceFingerprint, inputs.provisioners);
  let best: PlanSnapshot | undefined;
  for (const s of record.provisioners) {
    if (!s.snapshot) continue;
    const k = chains.lastIndexOf(s.snapshot.chain);
    if (k >= 0 && (!best || k > best.step)) best = { id: s.snapshot.id, step: k, saves: k + 1 };
  }
  return best;
}

function planSteps(inputs: BuildInputs, action: PlanAction, firstProvisioner: number, firstChain: number): PlanStep[] {
  const all = action === 'up-to-date';
  const fresh = action === 'fresh';
  const steps: PlanStep[] = inputs.provisioners.map((s, i) => ({ label: provisionerLabel(s, i), action: all || (!fresh && i < firstProvisioner) ? 'skip' : 'run' }));
  let flat = 0;
  inputs.postProcessorChains.forEach((chain, c) => {
    for (const s of chain) {
      steps.push({ label: postProcessorLabel(s, flat), action: all || (action === 'resume' && c < firstChain) ? 'skip' : 'run' });
      flat++;
    }
  });
  return steps;
}

export function planBuild(inputs: BuildInputs, record: BuildState | undefined, options: PlanOptions): BuildPlan {
  const n = inputs.provisioners.length;
  const chains = inputs.postProcessorChains.length;
  const kept = record?.instance ?? undefined;
  const changes = record && !options.force ? changesOf(record, inputs, options) : [];
  const make = (action: PlanAction, reason: string, firstProvisioner: number, firstChain: number, extra: Partial<BuildPlan> = {}): BuildPlan => ({
    key: inputs.key,
    name: inputs.name,
    action,
    reason,
    firstProvisioner,
    firstChain,
    artifacts: [],
    instanceOutlivesBuild: inputs.instanceOutlivesBuild,
    steps: planSteps(inputs, action, firstProvisioner, firstChain),
    changes,
    ...(inputs.builderPlugin ? { builderPlugin: inputs.builderPlugin } : {}),
    ...extra,
  });
  const destroy = kept && kept.keep_on_failure ? { destroyInstance: kept } : {};
  const fresh = (reason: string): BuildPlan => make('fresh', reason, 0, 0, destroy);
  /** A restart from the newest matching snapshot, else fresh (`freshTail` ends the reason then). */
  const fallback = (reason: string, freshTail = ''): BuildPlan => {
    const snap = record ? matchingSnapshot(record, inputs) : undefined;
    if (!snap) return fresh(reason + freshTail);
    const at = provisionerLabel(inputs.provisioners[snap.step]!, snap.step);
    return make('restart-from-snapshot', `${reason}; the snapshot was taken after ${at}, which saves ${snap.saves} step${snap.saves === 1 ? '' : 's'}`, snap.step + 1, 0, { ...destroy, snapshot: snap });
  };
  const resume = (reason: string, firstProvisioner: number, firstChain: number): BuildPlan => make('resume', reason, firstProvisioner, firstChain, { instance: kept });
  /** Every provisioner completed unchanged and the builder's artifact is recorded with its files
   * (if any) still there: the chains from `pp.chain` re-run on it, no instance is created. */
  const onArtifact = (pp: { chain: number; why: string }): BuildPlan | undefined => {
    const a = record ? builderArtifactRecord(record) : undefined;
    if (!a || !options.artifactPresent(a)) return undefined;
    const reason = `${pp.why}; re-runs post-processor chain ${pp.chain + 1} on the recorded artifact of the builder (${a.id || a.files.join(', ')}), without creating an instance`;
    return make('resume', reason, n, pp.chain, { builderArtifact: a });
  };

  if (!record) return fresh('no previous build is recorded');
  if (options.force) return fresh('-replace names it');
  if (record.fingerprint !== inputs.sourceFingerprint) {
    const c = changes[0]!;
    return fresh(`the source configuration changed since the last build${c.details.length > 0 ? ` (${changeText(c)})` : ''}`);
  }

  const recorded = record.provisioners;
  let applied = 0; // provisioners that completed on the instance, in a row from the first
  while (applied < recorded.length && isDone(recorded[applied])) applied++;
  let same = 0; // of those, how many are the template's provisioners at the same place
  while (same < applied && same < n && sameStep(recorded[same]!, inputs.provisioners[same]!)) same++;
  const provChanges = changes.filter((c) => c.subject.startsWith('provisioner '));
  const listed = provChanges.map(changeText);
  const firstProvChange = listed.length === 0 ? 'a provisioner changed' : listed.length <= 3 ? listed.join(', ') : `${listed.slice(0, 3).join(', ')} and ${listed.length - 3} more changes`;
  const outputPresent = options.outputPresent ?? (() => true);

  if (record.status === 'complete') {
    const reusable = kept !== undefined && inputs.instanceOutlivesBuild && inputs.canReconnect;
    const lost = (why: string): BuildPlan =>
      !inputs.instanceOutlivesBuild
        ? fallback(`${why}, and a ${inputs.builderType} build's instance does not outlive the build`, ', so it is rebuilt from the start')
        : fallback(`${why}, and the instance of the last build cannot be reconnected to`);
    if (same === applied && applied === recorded.length && n === applied) {
      const pp = firstChainToRun(record, inputs, outputPresent);
      if (!pp) {
        const missing = record.artifacts.find((a) => !options.artifactPresent(a));
        if (missing) {
          const change: StepChange = { kind: 'artifact-missing', subject: inputs.name, index: -1, recordedIndex: -1, details: [missing.id || missing.files.join(', ')] };
          changes.push(change);
          return fallback(changeText(change));
        }
        return make('up-to-date', `nothing changed since the build completed at ${record.completed_at}`, n, chains, { artifacts: record.artifacts });
      }
      if (reusable) return resume(`${pp.why}; the steps before it are complete and unchanged`, n, pp.chain);
      return onArtifact(pp) ?? lost(pp.why);
    }
    if (same === applied && applied === recorded.length && n > applied) {
      const why = `${provisionerLabel(inputs.provisioners[applied]!, applied)} is new`;
      if (reusable) return resume(`${why}; the steps before it are complete and unchanged`, applied, 0);
      return lost(why);
    }
    if (!inputs.instanceOutlivesBuild) return lost(firstProvChange);
    return fallback(`${firstProvChange}; the host already went through the steps after it in the last build, so the build starts from the beginning`);
  }

  // An unfinished build: failed, or interrupted (status still creating/provisioning/…).
  const ended = record.status === 'failed' ? 'failed' : 'did not finish';
  if ((!kept || !inputs.canReconnect) && same === applied && applied === recorded.length && n === applied) {
    // The build failed in a post-processor chain after the builder made its artifact.
    const pp = firstChainToRun(record, inputs, outputPresent);
    const plan = pp && onArtifact(pp);
    if (plan) return plan;
  }
  if (!kept) return fallback(`the last build ${ended} without keeping an instance to resume on`);
  if (!inputs.canReconnect) return fallback(`the last build did not complete, and a ${inputs.builderType} instance cannot be reconnected to`);
  if (same < applied) {
    const stop = applied < recorded.length ? provisionerLabel(recorded[applied]!, applied) : 'the post-processors';
    return fallback(`${firstProvChange}, before the step the last build stopped at (${stop}); the kept ${inputs.instanceOutlivesBuild ? 'host' : 'instance'} already went through the old steps, so it cannot be resumed`);
  }
  const complete = (k: number): string => `${k} step${k === 1 ? '' : 's'} already complete`;
  if (applied < n) {
    return resume(`${resumeWhy(applied, recorded[applied], inputs.provisioners[applied]!)}; ${complete(applied)}`, applied, 0);
  }
  // Every provisioner of the template completed on the instance: the post-processors.
  const pp = firstChainToRun(record, inputs, outputPresent);
  if (!pp) return resume('every step completed but the build was not finished', n, chains);
  const done = n + inputs.postProcessorChains.slice(0, pp.chain).reduce((a, c) => a + c.length, 0);
  return resume(`${pp.why}; ${complete(done)}`, n, pp.chain);
}

/**
 * The plan a run falls back to when the instance `plan` would resume on turned out to be gone
 * (the builder's `reconnect` said so): from the start, every step run, for `reason`.
 */
export function freshInstead(plan: BuildPlan, reason: string): BuildPlan {
  return {
    ...plan,
    action: 'fresh',
    reason,
    firstProvisioner: 0,
    firstChain: 0,
    instance: undefined,
    destroyInstance: undefined,
    snapshot: undefined,
    artifacts: [],
    steps: plan.steps.map((s) => ({ ...s, action: 'run' })),
  };
}

/**
 * Builds recorded in the state that the template no longer has (sorted): `plan` lists them as
 * orphaned. Both lists are state keys.
 */
export function orphans(stateKeys: readonly string[], templateKeys: readonly string[]): string[] {
  const have = new Set(templateKeys);
  return stateKeys.filter((k) => !have.has(k)).sort();
}
