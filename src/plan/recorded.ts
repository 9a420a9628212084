/**
 * Where a recorded build would resume if the template were unchanged: the planner (plan.ts) run on
 * inputs derived from the record, so that `builder state show` and `builder build`/`plan` answer
 * from the same code (there is no second notion of a resume point).
 *
 * Contracts:
 * - The derived inputs are the record's own source and step identities; post-processor chains
 *   are the recorded chain lengths (`post_processor_chains`; a record without them — an older
 *   state — takes each post-processor as a chain of its own).
 * - What the record cannot tell is assumed in the build's favour and said so by the caller: the
 *   builder can reconnect to a kept instance (one is kept only then), recorded artifacts and
 *   output files are still there, the builder offers snapshots when the record holds some.
 */
import type { BuildState } from '../state/types.js';
import { planBuild, type BuildInputs, type BuildPlan, type PlannedStep } from './plan.js';

/** The inputs of the build as recorded (the template unchanged). */
export function inputsFromRecord(key: string, record: BuildState): BuildInputs {
  const step = (s: BuildState['provisioners'][number]): PlannedStep => ({ type: s.type, name: s.name, fingerprint: s.fingerprint, inputs: s.inputs });
  const posts = record.post_processors.map(step);
  const lengths = record.post_processor_chains.reduce((a, n) => a + n, 0) === posts.length ? record.post_processor_chains : posts.map(() => 1);
  const chains: PlannedStep[][] = [];
  let at = 0;
  for (const n of lengths) {
    chains.push(posts.slice(at, at + n));
    at += n;
  }
  return {
    key,
    name: key,
    builderType: record.type,
    sourceFingerprint: record.fingerprint,
    sourceInputs: record.inputs,
    provisioners: record.provisioners.map(step),
    postProcessorChains: chains,
    canReconnect: true,
    // A complete build keeps its instance in the record only when the instance outlives it.
    instanceOutlivesBuild: record.status === 'complete' && record.instance !== null,
    canSnapshot: record.provisioners.some((s) => s.snapshot !== null),
  };
}

/** The plan of a new run of the recorded build with the template unchanged. */
export function recordedPlan(key: string, record: BuildState): BuildPlan {
  return planBuild(inputsFromRecord(key, record), record, { force: false, artifactPresent: () => true });
}

/** One sentence for `state show`: what a new run of the build would do, the template unchanged. */
export function recordedPlanText(plan: BuildPlan): string {
  const first = plan.steps.find((s) => s.action === 'run');
  switch (plan.action) {
    case 'up-to-date':
      return 'A new run with the same template skips it: it is up to date (while its artifacts are there).';
    case 'resume':
      return first ? `A new run resumes at ${first.label}: ${plan.reason}.` : `A new run only finishes the build: ${plan.reason}.`;
    case 'restart-from-snapshot':
      return `A new run restarts from the snapshot ${plan.snapshot?.id ?? ''} at ${first?.label ?? 'the post-processors'}.`;
    case 'fresh':
      return `A new run builds it from the start: ${plan.reason}.`;
  }
}
