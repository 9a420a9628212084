/**
 * What `builder snapshots list` and `prune` work on: every snapshot of a state, joined from two
 * sides — the snapshots the build records hold (StepState.snapshot) and the snapshots each builder
 * that offers them (BuilderDef.snapshots) finds labelled with the state's lineage
 * (src/stateful/snapshots.ts). A snapshot is
 *   - recorded: held by a build record, and present (or its builder could not be asked);
 *   - missing:  held by a record, but its builder no longer has it (removed by hand);
 *   - orphaned: labelled with this state's lineage, held by no record (its build was removed
 *               from the state, or a fresh build replaced the record that held it).
 * A builder that cannot be reached (no Docker service) is a warning, not an error: the recorded
 * snapshots are still listed.
 */
import type { CommandContext } from '../../cli/command.js';
import { builders } from '../../builders/registry.js';
import { toError } from '../../errors.js';
import type { BuilderDef, SnapshotCapability } from '../../sdk/component.js';
import type { StateManager } from '../../state/manager.js';
import { BUILD_NAME_LABEL, LINEAGE_LABEL, STEP_LABEL, TEMPLATE_LABEL } from '../../stateful/snapshots.js';

export type SnapshotStatus = 'recorded' | 'missing' | 'orphaned';

export interface SnapshotRow {
  id: string;
  status: SnapshotStatus;
  /** The build's key in the state (recorded), or TEMPLATE/BUILD from its labels (orphaned). */
  build: string;
  /** The provisioner it was taken after, 1-based; 0 when unknown. */
  step: number;
  /** Unix seconds; 0 when unknown. */
  created: number;
  size: number;
  builderType: string;
}

export interface Inventory {
  rows: SnapshotRow[];
  warnings: string[];
}

function snapshotBuilders(): [string, SnapshotCapability<unknown>][] {
  return [...builders].flatMap((b: BuilderDef<unknown>) => (b.snapshots ? [[b.type, b.snapshots] as [string, SnapshotCapability<unknown>]] : []));
}

/** Every snapshot of the state `m` (opened unscoped: every template's builds). */
export async function inventory(m: StateManager, ctx: CommandContext): Promise<Inventory> {
  const rows: SnapshotRow[] = [];
  const warnings: string[] = [];
  const recorded = new Map<string, SnapshotRow>();
  for (const key of m.buildKeys().sort()) {
    const b = m.build(key)!;
    b.provisioners.forEach((s, i) => {
      if (s.snapshot) recorded.set(s.snapshot.id, { id: s.snapshot.id, status: 'recorded', build: key, step: i + 1, created: 0, size: 0, builderType: b.type });
    });
  }
  const rctx = { cwd: ctx.cwd, env: ctx.env, signal: ctx.signal };
  for (const [type, cap] of snapshotBuilders()) {
    let found;
    try {
      found = await cap.list({ [LINEAGE_LABEL]: m.lineage }, rctx);
    } catch (err) {
      if ([...recorded.values()].some((r) => r.builderType === type)) warnings.push(`could not list the ${type} snapshots: ${toError(err).message}`);
      continue;
    }
    const present = new Set(found.map((f) => f.id));
    for (const f of found) {
      const r = recorded.get(f.id);
      if (r) rows.push({ ...r, created: f.created, size: f.size });
      else {
        const build = [f.labels[TEMPLATE_LABEL], f.labels[BUILD_NAME_LABEL]].filter((x) => x).join('/');
        rows.push({ id: f.id, status: 'orphaned', build, step: Number(f.labels[STEP_LABEL] ?? 0) || 0, created: f.created, size: f.size, builderType: type });
      }
    }
    for (const r of recorded.values()) if (r.builderType === type && !present.has(r.id)) rows.push({ ...r, status: 'missing' });
  }
  // recorded snapshots whose builder could not be asked (or is not here)
  for (const r of recorded.values()) if (!rows.some((x) => x.id === r.id)) rows.push(r);
  rows.sort((a, b) => a.build.localeCompare(b.build) || a.step - b.step || a.created - b.created);
  return { rows, warnings };
}
