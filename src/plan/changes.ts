/**
 * What changed between the steps a build recorded and the steps of the template now, named: a
 * step added, removed or moved, or changed — and then which attributes and files of it changed.
 *
 * Contracts:
 * - Steps are matched by identity (type, name and fingerprint: src/plan/chain.ts). The longest
 *   common subsequence of identities is "unchanged"; a recorded step whose identity appears
 *   elsewhere among the template's unmatched steps "moved"; between two unchanged steps, each
 *   unmatched template step pairs with the unmatched recorded step of the same type and name that
 *   shares the most part hashes (the earliest on a tie) as "changed"; what is left was "removed"
 *   (recorded only) or "added" (template only). So a removed step is never reported as a change of
 *   the step that took its place.
 * - A changed step's details come from the per-part hashes (StepState.inputs, PlannedStep.inputs):
 *   attribute names, and "PATH content changed" for files, never values. A changed attribute whose
 *   value derives from an impure function (PlannedStep.causes) or from a variable whose recorded
 *   value changed says so. A record without part hashes (an older state) gives no details. A change
 *   of the plugin serving the step (part "plugin:NAME") is named with the plugins' names.
 */
import { stepId, type StepIdentity } from './chain.js';

export type ChangeKind = 'changed' | 'added' | 'removed' | 'moved' | 'output-gone' | 'artifact-missing';

export interface StepChange {
  kind: ChangeKind;
  /** "source.null.x", "provisioner 2 (shell-local)", "post-processor 1 (manifest)": the step's
   * place in the template, or in the record for a removed step. */
  subject: string;
  /** Index in the template's list (post-processors: flat); -1 for a removed step. */
  index: number;
  /** Index in the recorded list; -1 for an added step. */
  recordedIndex: number;
  /** For `changed`: what differs ("inline", "scripts/setup.sh content changed", "inline (from
   * timestamp())"); for `moved`: "from position N"; for `output-gone`: the file. May be empty. */
  details: string[];
}

/** Why an attribute's value may change from run to run: impure functions and variables it reads
 * (directly or through locals). */
export interface PartCause {
  impure: string[];
  variables: string[];
}

/** A step as the template has it now, with what it takes to name its changes. */
export interface CurrentStep extends StepIdentity {
  inputs?: Readonly<Record<string, string>>;
  causes?: Readonly<Record<string, PartCause>>;
}

/** A step as recorded. */
export interface RecordedStep extends StepIdentity {
  inputs?: Readonly<Record<string, string>>;
}

/** One line: "provisioner 2 (shell-local): inline", "provisioner 3 (shell-local) was removed". */
export function changeText(c: StepChange): string {
  switch (c.kind) {
    case 'changed':
      return c.details.length > 0 ? `${c.subject}: ${c.details.join(', ')}` : `${c.subject} changed`;
    case 'added':
      return `${c.subject} is new`;
    case 'removed':
      return `${c.subject} was removed`;
    case 'moved':
      return `${c.subject} moved${c.details.length > 0 ? ` (${c.details.join(', ')})` : ''}`;
    case 'output-gone':
      return `${c.subject} wrote ${c.details.join(', ')}, which is gone`;
    case 'artifact-missing':
      return `the artifact ${c.details.join(', ')} is missing or was modified`;
  }
}

/** The change of the plugin serving a step (part "plugin:NAME", see inputs.ts), named. */
function pluginChanges(recorded: Readonly<Record<string, string>>, current: Readonly<Record<string, string>>): string[] {
  const names = (m: Readonly<Record<string, string>>): string[] => Object.keys(m).filter((k) => k.startsWith('plugin:')).map((k) => k.slice('plugin:'.length));
  const was = names(recorded);
  const now = names(current);
  if (was.length === 0 && now.length === 0) return [];
  if (was.length === 0) return [`now served by the plugin ${now.join(', ')}`];
  if (now.length === 0) return [`no longer served by the plugin ${was.join(', ')}`];
  if (was.join() !== now.join()) return [`the plugin ${was.join(', ')} was replaced by ${now.join(', ')}`];
  return was.some((n) => recorded[`plugin:${n}`] !== current[`plugin:${n}`]) ? [`the plugin ${now.join(', ')} changed (its executable differs)`] : [];
}

/**
 * The parts of two input-hash maps that differ, named (see the module comment). Empty when either
 * side has no hashes (nothing to tell).
 */
export function partChanges(
  recorded: Readonly<Record<string, string>> | undefined,
  current: Readonly<Record<string, string>> | undefined,
  causes: Readonly<Record<string, PartCause>> = {},
  changedVariables: ReadonlySet<string> = new Set(),
): string[] {
  if (!recorded || !current || Object.keys(recorded).length === 0 || Object.keys(current).length === 0) return [];
  const out = pluginChanges(recorded, current);
  const keys = [...new Set([...Object.keys(recorded), ...Object.keys(current)])].sort(fileLast);
  for (const k of keys) {
    const was = recorded[k];
    const now = current[k];
    if (was === now || k.startsWith('plugin:')) continue;
    if (k.startsWith('file:')) {
      const path = k.slice('file:'.length);
      out.push(was === undefined ? `${path} is read now` : now === undefined ? `${path} is no longer read` : `${path} content changed`);
      continue;
    }
    const notes: string[] = [];
    if (was === undefined) notes.push('added');
    else if (now === undefined) notes.push('removed');
    const cause = causes[k];
    if (cause && now !== undefined) {
      if (cause.impure.length > 0) notes.push(`from ${cause.impure.map((f) => `${f}()`).join(', ')}`);
      const vars = cause.variables.filter((v) => changedVariables.has(v));
      if (vars.length > 0) notes.push(`${vars.map((v) => `var.${v}`).join(', ')} changed`);
    }
    out.push(notes.length > 0 ? `${k} (${notes.join('; ')})` : k);
  }
  return out;
}

/** The recorded step (index into `recs`) a changed `cur` most likely was: same type and name, the
 * most equal part hashes, the earliest on a tie; -1 when none has its type and name. */
function bestPartner(recs: readonly RecordedStep[], cur: CurrentStep): number {
  let best = -1;
  let bestScore = -1;
  recs.forEach((r, i) => {
    if (r.type !== cur.type || r.name !== cur.name) return;
    const score = Object.entries(cur.inputs ?? {}).filter(([k, v]) => r.inputs?.[k] === v).length;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}

/** Attributes first, then files; each group by name. */
function fileLast(a: string, b: string): number {
  const fa = a.startsWith('file:');
  const fb = b.startsWith('file:');
  if (fa !== fb) return fa ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The differences between the recorded steps and the template's, in template order (removed steps
 * where they were). `label(step, index)` names a step at an index of its list.
 */
export function diffSteps(
  recorded: readonly RecordedStep[],
  current: readonly CurrentStep[],
  label: (step: StepIdentity, index: number) => string,
  changedVariables: ReadonlySet<string> = new Set(),
): StepChange[] {
  const recIds = recorded.map(stepId);
  const curIds = current.map(stepId);
  if (recIds.length === curIds.length && recIds.every((id, i) => id === curIds[i])) return [];
  const pairs = lcs(recIds, curIds);
  const matchedRec = new Set(pairs.map(([r]) => r));
  const matchedCur = new Set(pairs.map(([, c]) => c));
  const changes: StepChange[] = [];

  // Moves: a recorded step that is not in place, whose identity an unmatched template step has.
  const freeCur = new Map<string, number[]>();
  current.forEach((s, i) => {
    if (matchedCur.has(i)) return;
    const id = stepId(s);
    freeCur.set(id, [...(freeCur.get(id) ?? []), i]);
  });
  recorded.forEach((s, r) => {
    if (matchedRec.has(r)) return;
    const c = freeCur.get(stepId(s))?.shift();
    if (c === undefined) return;
    matchedRec.add(r);
    matchedCur.add(c);
    changes.push({ kind: 'moved', subject: label(current[c]!, c), index: c, recordedIndex: r, details: [`from position ${r + 1}`] });
  });

  // Between consecutive unchanged steps: pair the unmatched ones by type and name, in order.
  const bounds: [number, number][] = [[-1, -1], ...pairs, [recorded.length, current.length]];
  for (let g = 0; g + 1 < bounds.length; g++) {
    const [r0, c0] = bounds[g]!;
    const [r1, c1] = bounds[g + 1]!;
    const recs: number[] = [];
    for (let r = r0 + 1; r < r1; r++) if (!matchedRec.has(r)) recs.push(r);
    const curs: number[] = [];
    for (let c = c0 + 1; c < c1; c++) if (!matchedCur.has(c)) curs.push(c);
    for (const c of curs) {
      const cur = current[c]!;
      const at = bestPartner(recs.map((r) => recorded[r]!), cur);
      if (at < 0) {
        changes.push({ kind: 'added', subject: label(cur, c), index: c, recordedIndex: -1, details: [] });
        continue;
      }
      const r = recs.splice(at, 1)[0]!;
      const details = partChanges(recorded[r]!.inputs, cur.inputs, cur.causes, changedVariables);
      changes.push({ kind: 'changed', subject: label(cur, c), index: c, recordedIndex: r, details });
    }
    for (const r of recs) changes.push({ kind: 'removed', subject: label(recorded[r]!, r), index: -1, recordedIndex: r, details: [] });
  }
  return changes.sort((a, b) => position(a) - position(b));
}

/** Where a change sits, for ordering: its template index; a removed step just before the step that
 * now holds its recorded place. */
function position(c: StepChange): number {
  return c.index >= 0 ? c.index : c.recordedIndex - 0.5;
}

/** Index pairs of a longest common subsequence of `a` and `b`, in order. */
function lcs(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  }
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([i, j]);
      i++;
      j++;
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return out;
}
