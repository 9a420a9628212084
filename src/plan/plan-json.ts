/**
 * The stable JSON form of a plan (`builder plan -json`), documented in docs/design.md ("The JSON
 * plan"). `format_version` changes only when a member is removed or changes meaning; new members
 * may be added within a version, so readers ignore members they do not know.
 */
import type { LockInfo } from '../state/interfaces.js';
import type { JsonValue } from '../state/types.js';
import { changeText } from './changes.js';
import type { BuildPlan } from './plan.js';
import { canonicalJson } from '../state/sensitive.js';

export const PLAN_FORMAT_VERSION = 1;

export interface PlanStepJson {
  label: string;
  action: 'skip' | 'run';
}

export interface PlanChangeJson {
  kind: string;
  subject: string;
  details: string[];
  /** The change as one line, as the plan prints it. */
  text: string;
}

export interface BuildPlanJson {
  build: string;
  action: BuildPlan['action'];
  reason: string;
  steps: PlanStepJson[];
  changes: PlanChangeJson[];
  /** The recorded instance the run reuses (resume) or destroys first (fresh, snapshot). */
  instance: { id: string; action: 'reuse' | 'destroy' } | null;
  snapshot: { id: string; after: string; saves_steps: number } | null;
  /** Present when a plugin serves the builder: its name, and that a later run cannot resume on
   * the build's instance (a failure cleans it up). */
  builder_plugin?: { name: string; resumable: false };
  /** Present when another run (in a shared run, a runner) holds the build's lock now: what it does
   * may change this plan. The text form's "held by …" line. */
  held_by?: PlanHolderJson;
}

/** Who holds a build's lock (never a secret: no connection string, no credentials). */
export interface PlanHolderJson {
  /** The lock's ID (`builder state unlock ID` breaks it). */
  lock_id: string;
  /** user@host, or the runner's name in a shared run. */
  who: string;
  host: string;
  pid: number;
  operation: string;
  /** RFC 3339: when the lock was taken. */
  since: string;
  /** The shared run the holder works for (PostgreSQL records it). */
  run_id?: string;
  /** RFC 3339, the server's clock: when the lock lapses unless its holder renews it (PostgreSQL). */
  expires?: string;
}

export interface PlanDocumentJson {
  format_version: number;
  builds: BuildPlanJson[];
  /** Builds in the state that the template no longer has. */
  orphans: string[];
}

/** The JSON form of a lock's holder. */
export function holderToJson(lock: LockInfo): PlanHolderJson {
  return {
    lock_id: lock.id,
    who: lock.who,
    host: lock.host,
    pid: lock.pid,
    operation: lock.operation,
    since: lock.created,
    ...(lock.run !== undefined ? { run_id: lock.run } : {}),
    ...(lock.expires !== undefined ? { expires: lock.expires } : {}),
  };
}

/** One build's plan as JSON data; `holder`: the lock another run holds on it, if any. */
export function planToJson(plan: BuildPlan, holder?: LockInfo): BuildPlanJson {
  const instance = plan.instance ? { id: plan.instance.id, action: 'reuse' as const } : plan.destroyInstance ? { id: plan.destroyInstance.id, action: 'destroy' as const } : null;
  const after = plan.snapshot ? (plan.steps[plan.snapshot.step]?.label ?? '') : '';
  return {
    build: plan.name,
    action: plan.action,
    reason: plan.reason,
    steps: plan.steps.map((s) => ({ label: s.label, action: s.action })),
    changes: plan.changes.map((c) => ({ kind: c.kind, subject: c.subject, details: [...c.details], text: changeText(c) })),
    instance,
    snapshot: plan.snapshot ? { id: plan.snapshot.id, after, saves_steps: plan.snapshot.saves } : null,
    ...(plan.builderPlugin ? { builder_plugin: { name: plan.builderPlugin, resumable: false as const } } : {}),
    ...(holder ? { held_by: holderToJson(holder) } : {}),
  };
}

/** The whole `plan -json` document; `held`: the locks other runs hold, by build name. */
export function plansToJson(plans: readonly BuildPlan[], orphaned: readonly string[], held: ReadonlyMap<string, LockInfo> = new Map()): PlanDocumentJson {
  return { format_version: PLAN_FORMAT_VERSION, builds: plans.map((p) => planToJson(p, held.get(p.name))), orphans: [...orphaned] };
}

/**
 * Names of the variables whose recorded value (TemplateState.variables, as recordVariables wrote
 * it: sensitive ones as salted hashes) differs from the current one, recorded the same way.
 */
export function changedVariables(recorded: Readonly<Record<string, JsonValue>>, current: Readonly<Record<string, JsonValue>>): Set<string> {
  const out = new Set<string>();
  for (const k of new Set([...Object.keys(recorded), ...Object.keys(current)])) {
    if (canonicalJson(recorded[k] ?? null) !== canonicalJson(current[k] ?? null)) out.add(k);
  }
  return out;
}
