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
import type { InstanceState } from '../state/types.js';

export const STATE_EVENT_PHRASES = [
  'Up to date: ',
  'Resuming: ',
  'Resuming on ',
  'Building from the start: ',
  'Destroying the kept instance ',
  'The kept instance ',
  'The instance ',
  'The completed steps ',
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
      if (!plan.instanceOutlivesBuild) return `Resuming on the kept instance ${plan.instance?.id ?? ''}: ${plan.reason}.`;
      const host = hostOf(plan.instance);
      return host ? `Resuming on ${host}: ${plan.reason}.` : `Resuming: ${plan.reason}.`;
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
 * After a failed or interrupted build whose instance was kept: how to resume and how to discard.
 * A builder whose instance outlives the build (null: the host it connects to) has nothing of its
 * own to keep, only the record of the steps that completed. `rmCommand` is the exact command that
 * discards it, from the folder the build ran in: `stateRmCommand(location, buildName)`
 * (src/state/location.ts), which names the same template, state and workspace.
 */
export function keptAfterFailureMessage(instance: InstanceState, instanceOutlivesBuild: boolean, rmCommand: string): string {
  if (instanceOutlivesBuild) {
    const host = hostOf(instance);
    return (
      `The completed steps are recorded${host ? ` (on ${host})` : ''}. Run the same command again to resume ` +
      `from the step that did not complete, or start over with: ${rmCommand}`
    );
  }
  return (
    `The instance ${instance.id} was kept. Run the same command again to resume on it from the step that ` +
    `did not complete, or destroy it with: ${rmCommand}`
  );
}
