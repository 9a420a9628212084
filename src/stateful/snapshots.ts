/**
 * What a stateful run puts on what a builder makes outside (instances and snapshots) so that
 * `builder` can find them again and match them to their state, and which recorded snapshots a run
 * or `builder snapshots prune` may remove.
 *
 * Contracts:
 * - Instance labels (StepContext.instanceLabels) name the state's lineage, the workspace, the
 *   template id and the build: `builder.lineage`, `builder.workspace`, `builder.template`,
 *   `builder.build`. Snapshot labels add the chain through the step (`builder.chain`,
 *   src/plan/chain.ts) and the step's number (`builder.step`, 1-based).
 * - A snapshot is in use while any build record of the state holds it on a step
 *   (`recordedSnapshots`); nothing here removes a snapshot in use.
 */
import type { StateManager } from '../state/manager.js';
import type { BuildState } from '../state/types.js';

export const LINEAGE_LABEL = 'builder.lineage';
export const WORKSPACE_LABEL = 'builder.workspace';
export const TEMPLATE_LABEL = 'builder.template';
/** The same label the docker builder puts on its containers (BUILD_LABEL there). */
export const BUILD_NAME_LABEL = 'builder.build';
export const CHAIN_LABEL = 'builder.chain';
export const STEP_LABEL = 'builder.step';

export interface LabelScope {
  lineage: string;
  workspace: string;
  /** The template's id in the state (src/state/identity.ts); '' when not known. */
  template: string;
  build: string;
}

export function instanceLabels(s: LabelScope): Record<string, string> {
  return { [LINEAGE_LABEL]: s.lineage, [WORKSPACE_LABEL]: s.workspace, [TEMPLATE_LABEL]: s.template, [BUILD_NAME_LABEL]: s.build };
}

/** The labels of the snapshot taken after provisioner `index` (0-based) with chain `chain`. */
export function snapshotLabels(s: LabelScope, chain: string, index: number): Record<string, string> {
  return { ...instanceLabels(s), [CHAIN_LABEL]: chain, [STEP_LABEL]: String(index + 1) };
}

/** The snapshot ids one build record holds. */
export function buildSnapshots(b: BuildState | undefined): string[] {
  return (b?.provisioners ?? []).flatMap((s) => (s.snapshot ? [s.snapshot.id] : []));
}

/** Every snapshot id the state's build records hold, with the key of the build holding it. */
export function recordedSnapshots(state: StateManager): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of state.buildKeys()) for (const id of buildSnapshots(state.build(key))) out.set(id, key);
  return out;
}

/** Of `previous` (the snapshots a build held before its run), those no record holds any more. */
export function supersededSnapshots(previous: readonly string[], state: StateManager): string[] {
  const inUse = recordedSnapshots(state);
  return [...new Set(previous)].filter((id) => !inUse.has(id));
}
