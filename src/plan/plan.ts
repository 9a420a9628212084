/**
 * The planner: compares a build's current fingerprints with what the state recorded and decides,
 * for each selected build, one of
 *   - up-to-date: complete, same fingerprints, artifacts still present — skip it;
 *   - resume:     reuse the recorded instance, skip the steps that completed with unchanged
 *                 fingerprints, run from the first step that failed, was interrupted (`running`),
 *                 is pending or changed — and every step after it;
 *   - fresh:      no usable record, the source changed, or -force — destroy a kept instance first.
 * The plan is data: `builder build -plan` prints it (src/stateful/messages.ts), tests read it,
 * and the runner follows it.
 *
 * Step order is provisioners 0..n-1, then post-processor chains 0..m-1. A post-processor chain is
 * the unit of re-running post-processors: each post-processor's input is the previous one's
 * artifact, so when one post-processor must run, its whole chain runs (and all chains after it).
 */
import type { ArtifactState, BuildState, InstanceState, StepState } from '../state/types.js';

export interface PlannedStep {
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
  provisioners: readonly PlannedStep[];
  /** Post-processor chains, in order. */
  postProcessorChains: readonly (readonly PlannedStep[])[];
  /** The builder can reconnect to an instance it recorded (BuilderDef.reconnect exists). */
  canReconnect: boolean;
  /** The instance outlives a completed build (null: the host it connects to). */
  instanceOutlivesBuild: boolean;
  /** The builder's type, for messages. */
  builderType: string;
}

export type PlanAction = 'up-to-date' | 'resume' | 'fresh';

export interface BuildPlan {
  key: string;
  name: string;
  action: PlanAction;
  /** Why, in one sentence, for the output. */
  reason: string;
  /** For resume: the first provisioner to run (= number of provisioners when none must run). */
  firstProvisioner: number;
  /** For resume: the first post-processor chain to run (= number of chains when none must run). */
  firstChain: number;
  /** For resume: the recorded instance to reconnect to. */
  instance?: InstanceState;
  /** For fresh: a kept instance to destroy before building. */
  destroyInstance?: InstanceState;
  /** For up-to-date: the recorded artifacts, reported as the build's result. */
  artifacts: ArtifactState[];
  /** The builder's instance outlives the build (null: the host it connects to), for messages. */
  instanceOutlivesBuild: boolean;
}

export interface PlanOptions {
  force: boolean;
  /** True when the recorded artifact's files still exist with the recorded hash. */
  artifactPresent(artifact: ArtifactState): boolean;
  /** True when a post-processor's output file (PlannedStep.outputs) exists. Default: always. */
  outputPresent?(path: string): boolean;
}

function stepDone(recorded: StepState | undefined, current: PlannedStep): boolean {
  return (
    recorded !== undefined &&
    (recorded.status === 'complete' || recorded.status === 'skipped') &&
    recorded.type === current.type &&
    recorded.fingerprint === current.fingerprint
  );
}

function describeStep(kind: string, index: number, step: StepState | undefined, current: PlannedStep): string {
  const label = `${kind} ${index + 1} (${current.name || current.type})`;
  if (!step) return `${label} is new`;
  if (step.type !== current.type || step.fingerprint !== current.fingerprint) return `${label} changed`;
  switch (step.status) {
    case 'running':
      return `${label} was interrupted`;
    case 'failed':
      return `${label} failed${step.error ? ` (${step.error})` : ''}`;
    default:
      return `${label} has not run yet`;
  }
}

/**
 * Where a build must start again, or undefined when every step is done and unchanged (and every
 * output file of a post-processor that ran is still there).
 */
function firstChange(record: BuildState, inputs: BuildInputs, outputPresent: (path: string) => boolean): { provisioner: number; chain: number; why: string } | undefined {
  const n = inputs.provisioners.length;
  for (let i = 0; i < n; i++) {
    const cur = inputs.provisioners[i]!;
    const rec = record.provisioners[i];
    if (!stepDone(rec, cur)) return { provisioner: i, chain: 0, why: describeStep('provisioner', i, rec, cur) };
  }
  if (record.provisioners.length > n) return { provisioner: n, chain: 0, why: 'a provisioner was removed' };
  let flat = 0;
  for (let c = 0; c < inputs.postProcessorChains.length; c++) {
    for (const cur of inputs.postProcessorChains[c]!) {
      const rec = record.post_processors[flat];
      if (!stepDone(rec, cur)) return { provisioner: n, chain: c, why: describeStep('post-processor', flat, rec, cur) };
      const gone = rec?.status === 'complete' ? cur.outputs?.find((f) => !outputPresent(f)) : undefined;
      if (gone !== undefined) return { provisioner: n, chain: c, why: `post-processor ${flat + 1} (${cur.name || cur.type}) wrote ${gone}, which is gone` };
      flat++;
    }
  }
  if (record.post_processors.length > flat) return { provisioner: n, chain: inputs.postProcessorChains.length, why: 'a post-processor was removed' };
  return undefined;
}

export function planBuild(inputs: BuildInputs, record: BuildState | undefined, options: PlanOptions): BuildPlan {
  const base = { key: inputs.key, name: inputs.name, firstProvisioner: 0, firstChain: 0, artifacts: [] as ArtifactState[], instanceOutlivesBuild: inputs.instanceOutlivesBuild };
  const kept = record?.instance ?? undefined;
  const fresh = (reason: string): BuildPlan => ({
    ...base,
    action: 'fresh',
    reason,
    destroyInstance: kept && kept.keep_on_failure ? kept : undefined,
  });

  if (!record) return fresh('no previous build is recorded');
  if (options.force) return fresh('-force was given');
  if (record.fingerprint !== inputs.sourceFingerprint) return fresh('the source configuration changed since the last build');

  const change = firstChange(record, inputs, options.outputPresent ?? (() => true));
  if (record.status === 'complete') {
    if (!change) {
      const missing = record.artifacts.find((a) => !options.artifactPresent(a));
      if (missing) return fresh(`the artifact ${missing.id || missing.files.join(', ')} is missing or was modified`);
      return { ...base, action: 'up-to-date', reason: `nothing changed since the build completed at ${record.completed_at}`, artifacts: record.artifacts };
    }
    if (!inputs.instanceOutlivesBuild || !inputs.canReconnect || !kept) {
      return fresh(`${change.why}, and a ${inputs.builderType} build's instance does not outlive the build, so it is rebuilt from the start`);
    }
    return { ...base, action: 'resume', reason: `${change.why}; the steps before it are complete and unchanged`, firstProvisioner: change.provisioner, firstChain: change.chain, instance: kept };
  }

  // An unfinished build: failed, or interrupted (status still creating/provisioning/…).
  if (!kept) return fresh(`the last build ${record.status === 'failed' ? 'failed' : 'did not finish'} without keeping an instance to resume on`);
  if (!inputs.canReconnect) return fresh(`the last build did not complete, and a ${inputs.builderType} instance cannot be reconnected to`);
  if (!change) {
    return { ...base, action: 'resume', reason: 'every step completed but the build was not finished', firstProvisioner: inputs.provisioners.length, firstChain: inputs.postProcessorChains.length, instance: kept };
  }
  const done = change.provisioner + inputs.postProcessorChains.slice(0, change.chain).reduce((a, c) => a + c.length, 0);
  return {
    ...base,
    action: 'resume',
    reason: `${change.why}; ${done} step${done === 1 ? '' : 's'} already complete`,
    firstProvisioner: change.provisioner,
    firstChain: change.chain,
    instance: kept,
  };
}
