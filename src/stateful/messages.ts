/**
 * The lines `builder build` adds to Packer's output because of the state: the plan of each build,
 * what happens to kept instances, and how to resume or discard after a failure.
 *
 * Contract: every such line is printed as "==> BUILD: " followed by a text that starts with one of
 * STATE_EVENT_PHRASES, and by nothing else that starts so. Tests that compare builder's output
 * with Packer's drop exactly these lines (test/differential/harness.ts), so the phrases live here,
 * next to the functions that print them, and cannot drift apart.
 */
import type { BuildPlan } from '../plan/plan.js';
import { changeText } from '../plan/changes.js';
import type { LockInfo } from '../state/interfaces.js';
import type { InstanceState } from '../state/types.js';

export const STATE_EVENT_PHRASES = [
  'Up to date: ',
  'Resuming: ',
  'Resuming on ',
  'Building from the start: ',
  'Restarting from the snapshot ',
  'Destroying the kept instance ',
  'The kept instance ',
  'The instance ',
  'The completed steps ',
  'Snapshot ',
] as const;

/** True when `text` (what follows "==> BUILD: ") is one of the lines listed above. */
export function isStateEvent(text: string): boolean {
  return STATE_EVENT_PHRASES.some((p) => text.startsWith(p));
}

/** The host a builder whose instance outlives the build connects to, if it has one. */
function hostOf(instance: InstanceState | undefined): string | undefined {
  const host = instance?.metadata.host;
  return typeof host === 'string' && host !== '' ? host : undefined;
}

/** One line: why the build will (or will not) run. */
export function planMessage(plan: BuildPlan): string {
  switch (plan.action) {
    case 'up-to-date':
      return `Up to date: ${plan.reason}. Skipping the build.`;
    case 'resume': {
      if (plan.builderArtifact) return `Resuming: ${plan.reason}.`;
      if (!plan.instanceOutlivesBuild) return `Resuming on the kept instance ${plan.instance?.id ?? ''}: ${plan.reason}.`;
      const host = hostOf(plan.instance);
      return host ? `Resuming on ${host}: ${plan.reason}.` : `Resuming: ${plan.reason}.`;
    }
    case 'restart-from-snapshot': {
      const destroy = plan.destroyInstance && !plan.instanceOutlivesBuild ? ` The kept instance ${plan.destroyInstance.id} will be destroyed first.` : '';
      return `Restarting from the snapshot ${plan.snapshot?.id ?? ''}: ${plan.reason}.${destroy}`;
    }
    case 'fresh': {
      const destroy = plan.destroyInstance && !plan.instanceOutlivesBuild ? ` The kept instance ${plan.destroyInstance.id} will be destroyed first.` : '';
      return `Building from the start: ${plan.reason}.${destroy}`;
    }
  }
}

export function destroyingKeptMessage(instance: InstanceState): string {
  return `Destroying the kept instance ${instance.id} from the last run...`;
}

export function keptInstanceGoneMessage(instance: InstanceState): string {
  return `The kept instance ${instance.id} is gone; building from the start.`;
}

/**
 * After a failed or interrupted build whose instance was kept: the command that resumes (`resume`:
 * the same command, less anything that ignores the state) and the one that discards (`discard`:
 * `stateRmCommand(location, buildName)` of src/state/location.ts, which names the same template,
 * state and workspace from the folder the build ran in). A builder whose instance outlives the
 * build (null: the host it connects to) has nothing of its own to keep, only the record of the
 * steps that completed.
 */
export function keptAfterFailureMessage(instance: InstanceState, instanceOutlivesBuild: boolean, resume: string, discard: string): string {
  // One line, as every line the state adds (see STATE_EVENT_PHRASES).
  if (instanceOutlivesBuild) {
    const host = hostOf(instance);
    return `The completed steps are recorded${host ? ` (on ${host})` : ''}. Resume from the step that did not complete with: ${resume} — or start over with: ${discard}`;
  }
  return `The instance ${instance.id} was kept. Resume on it from the step that did not complete with: ${resume} — or destroy it with: ${discard}`;
}

/** A plan's note for a build whose builder a plugin serves (BuildPlan.builderPlugin). */
export function pluginBuilderNote(plugin: string): string {
  return `  ! the builder comes from the plugin ${plugin}, whose instance lives only in this run: a later run cannot resume on it, so a failure cleans it up (Packer's -on-error=cleanup); -on-error=ask offers to retry a failed provisioner on it in this run`;
}

/** The lines of one build's plan: the decision, what changed, then the steps that run and are
 * skipped. */
export function planLines(plan: BuildPlan): string[] {
  const lines = [planMessage(plan)];
  if (plan.builderPlugin && plan.action !== 'up-to-date') lines.push(pluginBuilderNote(plan.builderPlugin));
  for (const c of plan.changes) lines.push(`  ~ ${changeText(c)}`);
  if (plan.action !== 'up-to-date' && plan.steps.length > 0) {
    for (const s of plan.steps) lines.push(`  ${s.action === 'run' ? 'run ' : 'skip'} ${s.label}`);
  }
  return lines;
}

/** Who holds a build's lock, as `state list` and `plan` say it: "held by WHO (pid N, OPERATION
 * since TIME, lock ID ID)" (in a shared run, WHO names the runner working on the build). */
export function heldByText(lock: LockInfo): string {
  return `held by ${lock.who} (pid ${lock.pid}, ${lock.operation} since ${lock.created}, lock ID ${lock.id})`;
}

/** The plan's line for a build another run or runner holds the lock of: it is being worked on
 * now, so what it does may change the plan. */
export function planHeldLine(lock: LockInfo): string {
  return `  ${heldByText(lock)}: running now; what it does may change this plan`;
}

/** The last line of a plan: how many builds would do what. */
export function planSummary(plans: readonly BuildPlan[]): string {
  const count = (a: BuildPlan['action']): number => plans.filter((p) => p.action === a).length;
  const snapshots = count('restart-from-snapshot');
  return (
    `Plan: ${count('fresh')} to build from the start, ${count('resume')} to resume, ` +
    `${snapshots > 0 ? `${snapshots} to restart from a snapshot, ` : ''}${count('up-to-date')} up to date. Nothing was run.`
  );
}
