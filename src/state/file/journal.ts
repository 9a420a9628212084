/**
 * The journal: an append-only file next to the state (`<state>.journal`) holding the changes made
 * since the state file was last written in full, so that one checkpoint costs one small append
 * and one fdatasync whatever the size of the state.
 *
 * One record per line: `<sha256 of the payload, hex> <payload JSON>\n`, where the payload is
 * `{"lineage":…, "serial":N, "change":{…}}` (a StateChange: whole builds, or — for the start and
 * end of a step — one step record of a build). A record is valid only when it ends
 * with a newline and its checksum matches, so a record torn by a crash is recognised and ignored.
 *
 * Applying a journal to a state of serial S: records of another lineage or with serial ≤ S are
 * skipped (left over from before the last full write); a record of serial S+1 is applied; the
 * first record with a larger serial, or the first invalid one, ends the journal.
 *
 * Format versions: a journal's records are in the format of the state file they follow (a writer
 * appends only to a state file of its own format; the first write after an upgrade of builder
 * writes the whole state, src/state/file/client.ts). So the records that follow a state file of an
 * older format are of that format — a version-2 change keys builds by name alone and sets the one
 * `template` — and are replayed onto the older document *before* it is upgraded (`replayOlder`),
 * then the whole goes through the upgrade chain (src/state/upgrade.ts) once. Upgrading each record
 * on its own instead cannot give the same result: the version-2-to-3 upgrade files every build
 * under the template the *last* `template` names, which a later record may change. Records of the
 * current format after an older state file (appended by the builder release that did not yet
 * rewrite the file first) are recognised by fields only the current format has and applied after
 * the upgrade; from the first of them on, every record must be of the current format.
 */
import { createHash } from 'node:crypto';
import { validateBuild, validateStep } from '../format.js';
import type { StateChange } from '../interfaces.js';
import { STATE_FORMAT_VERSION, type BuildState, type StateFile } from '../types.js';
import { upgradeBuildRecord, upgradeStepRecord } from '../upgrade.js';

export interface JournalRecord {
  lineage: string;
  serial: number;
  change: StateChange;
}

export function encodeRecord(record: JournalRecord): Buffer {
  const payload = JSON.stringify(record);
  const sum = createHash('sha256').update(payload).digest('hex');
  return Buffer.from(`${sum} ${payload}\n`, 'utf8');
}

/** A record of an older format version: its change is JSON of that version's shape. */
export interface OlderRecord {
  lineage: string;
  serial: number;
  change: Record<string, unknown>;
}

export interface ParsedJournal {
  /** Records of the older format of the state file they follow, to replay onto its document
   * before the upgrade (replayOlder); they all come before `records`. */
  older: OlderRecord[];
  /** Records of the current format. */
  records: JournalRecord[];
  /** Offset just past the last valid record. */
  validEnd: number;
  /** True when bytes after `validEnd` are not a valid record (a torn or damaged tail). */
  torn: boolean;
}

const NEWLINE = 0x0a;

/**
 * Parses the records of `bytes`, which start at file offset `base` and follow a state file of
 * format `version` (see the module comment).
 */
export function parseJournal(bytes: Buffer, base: number, version: number = STATE_FORMAT_VERSION): ParsedJournal {
  const older: OlderRecord[] = [];
  const records: JournalRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(NEWLINE, pos);
    if (nl < 0) break;
    const r = parseLine(bytes.subarray(pos, nl));
    if (!r) break;
    const current = version >= STATE_FORMAT_VERSION || records.length > 0 || hasCurrentFields(r.change);
    if (current ? !validChange(r.change, STATE_FORMAT_VERSION) : !validChange(r.change, version)) break;
    if (current) records.push(r as unknown as JournalRecord);
    else older.push(r);
    pos = nl + 1;
  }
  return { older, records, validEnd: base + pos, torn: pos < bytes.length };
}

/** A checksummed line's payload, of any format version. */
function parseLine(line: Buffer): OlderRecord | undefined {
  if (line.length < 66 || line[64] !== 0x20) return undefined;
  const payload = line.subarray(65);
  if (createHash('sha256').update(payload).digest('hex') !== line.subarray(0, 64).toString('latin1')) return undefined;
  try {
    const r = JSON.parse(payload.toString('utf8')) as OlderRecord;
    if (typeof r.lineage !== 'string' || typeof r.serial !== 'number' || !isObject(r.change)) return undefined;
    return r;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a change is valid in format `version`: its records are checked as upgraded. */
function validChange(change: Record<string, unknown>, version: number): boolean {
  if (change.builds !== undefined) {
    if (!isObject(change.builds)) return false;
    for (const [key, build] of Object.entries(change.builds)) {
      if (build !== null && validateBuild(key, upgradeBuildRecord(build, version)) !== undefined) return false;
    }
  }
  if (change.steps !== undefined) {
    if (!Array.isArray(change.steps)) return false;
    for (const s of change.steps as unknown[]) {
      if (!isObject(s) || typeof s.build !== 'string') return false;
      if ((s.list !== 'provisioners' && s.list !== 'post_processors') || !Number.isInteger(s.index) || (s.index as number) < 0) return false;
      if (validateStep('step', upgradeStepRecord(s.step, version)) !== undefined) return false;
    }
  }
  for (const member of ['template', 'templates', 'last_run']) {
    if (change[member] !== undefined && change[member] !== null && !isObject(change[member])) return false;
  }
  return true;
}

/**
 * True when a change has a field only the current format has (a `templates` member, a build's
 * `inputs`, a step's `snapshot`). A change with none (only `last_run`, or removals) reads the
 * same in either format.
 */
function hasCurrentFields(change: Record<string, unknown>): boolean {
  if (change.templates !== undefined) return true;
  if (isObject(change.builds) && Object.values(change.builds).some((b) => isObject(b) && 'inputs' in b)) return true;
  return Array.isArray(change.steps) && (change.steps as unknown[]).some((s) => isObject(s) && isObject(s.step) && 'snapshot' in s.step);
}

/**
 * Applies one change to `state` in place (the serial is the caller's business). Returns false,
 * changing nothing, when the change does not fit the state (a step of a build or at an index the
 * state does not have): the journal then does not belong to this state.
 */
export function applyChange(state: StateFile, change: StateChange): boolean {
  const steps = change.steps ?? [];
  const target = (build: string): BuildState | undefined => {
    const changed = change.builds?.[build];
    return changed === undefined ? state.builds[build] : (changed ?? undefined);
  };
  if (!steps.every((s) => s.index < (target(s.build)?.[s.list].length ?? 0))) return false;
  if (change.builds) {
    for (const [key, build] of Object.entries(change.builds)) {
      if (build === null) delete state.builds[key];
      else state.builds[key] = build;
    }
  }
  for (const s of steps) state.builds[s.build]![s.list][s.index] = s.step;
  for (const [id, t] of Object.entries(change.templates ?? {})) {
    if (t === null) delete state.templates[id];
    else state.templates[id] = t;
  }
  if (change.last_run !== undefined) state.last_run = change.last_run;
  return true;
}

/**
 * Applies the records that follow `state` (see the module comment) in place. Returns false when a
 * record was missing (a gap in serials), meaning the journal and the state file do not belong
 * together — the caller reloads.
 */
export function applyRecords(state: StateFile, records: readonly JournalRecord[]): boolean {
  return applyInOrder(state, records, applyChange);
}

/** The journal's order rules, whatever the records' format: another lineage or an old serial is
 * skipped, the next serial is applied with `apply`, a gap (or a change that does not fit) fails. */
function applyInOrder<D extends { lineage?: unknown; serial?: unknown }, C>(doc: D, records: readonly { lineage: string; serial: number; change: C }[], apply: (doc: D, change: C) => boolean): boolean {
  for (const r of records) {
    const serial = doc.serial as number;
    if (r.lineage !== doc.lineage || r.serial <= serial) continue;
    if (r.serial !== serial + 1) return false;
    if (!apply(doc, r.change)) return false;
    doc.serial = r.serial;
  }
  return true;
}

/**
 * Replays records of an older format onto the decoded document of that format, in place, before it
 * is upgraded — what the builder that wrote them did on reading. The rules are applyRecords' (and
 * applyChange's, over plain JSON). Returns false when a record is missing or does not fit.
 */
export function replayOlder(doc: Record<string, unknown>, records: readonly OlderRecord[]): boolean {
  return applyInOrder(doc, records, replayChange);
}

function replayChange(doc: Record<string, unknown>, change: Record<string, unknown>): boolean {
  const builds = isObject(doc.builds) ? doc.builds : (doc.builds = {});
  const changed = isObject(change.builds) ? change.builds : {};
  const steps = (Array.isArray(change.steps) ? change.steps : []) as { build: string; list: string; index: number; step: unknown }[];
  const target = (key: string): Record<string, unknown> | undefined => {
    const b = Object.hasOwn(changed, key) ? changed[key] : builds[key];
    return isObject(b) ? b : undefined;
  };
  const fits = (s: (typeof steps)[number]): boolean => {
    const l = target(s.build)?.[s.list];
    return Array.isArray(l) && s.index < l.length;
  };
  if (!steps.every(fits)) return false;
  for (const [key, build] of Object.entries(changed)) {
    if (build === null) delete builds[key];
    else builds[key] = build;
  }
  for (const s of steps) (builds[s.build] as Record<string, unknown[]>)[s.list]![s.index] = s.step;
  if (change.template !== undefined) doc.template = change.template;
  if (isObject(change.templates)) {
    const templates = isObject(doc.templates) ? doc.templates : (doc.templates = {});
    for (const [id, t] of Object.entries(change.templates)) {
      if (t === null) delete templates[id];
      else templates[id] = t;
    }
  }
  if (change.last_run !== undefined) doc.last_run = change.last_run;
  return true;
}
