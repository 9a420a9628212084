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
 */
import { createHash } from 'node:crypto';
import { validateBuild, validateStep } from '../format.js';
import type { StateChange } from '../interfaces.js';
import type { BuildState, StateFile } from '../types.js';

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

export interface ParsedJournal {
  records: JournalRecord[];
  /** Offset just past the last valid record. */
  validEnd: number;
  /** True when bytes after `validEnd` are not a valid record (a torn or damaged tail). */
  torn: boolean;
}

const NEWLINE = 0x0a;

/** Parses the records of `bytes`, which start at file offset `base`. */
export function parseJournal(bytes: Buffer, base: number): ParsedJournal {
  const records: JournalRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(NEWLINE, pos);
    if (nl < 0) break;
    const record = parseLine(bytes.subarray(pos, nl));
    if (!record) break;
    records.push(record);
    pos = nl + 1;
  }
  return { records, validEnd: base + pos, torn: pos < bytes.length };
}

function parseLine(line: Buffer): JournalRecord | undefined {
  if (line.length < 66 || line[64] !== 0x20) return undefined;
  const payload = line.subarray(65);
  if (createHash('sha256').update(payload).digest('hex') !== line.subarray(0, 64).toString('latin1')) return undefined;
  try {
    const r = JSON.parse(payload.toString('utf8')) as JournalRecord;
    if (typeof r.lineage !== 'string' || typeof r.serial !== 'number' || typeof r.change !== 'object' || r.change === null) return undefined;
    for (const [key, build] of Object.entries(r.change.builds ?? {})) {
      if (build !== null && validateBuild(key, build) !== undefined) return undefined;
    }
    if (r.change.steps !== undefined) {
      if (!Array.isArray(r.change.steps)) return undefined;
      for (const s of r.change.steps) {
        if (typeof s !== 'object' || s === null || typeof s.build !== 'string') return undefined;
        if ((s.list !== 'provisioners' && s.list !== 'post_processors') || !Number.isInteger(s.index) || s.index < 0) return undefined;
        if (validateStep('step', s.step) !== undefined) return undefined;
      }
    }
    return r;
  } catch {
    return undefined;
  }
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
  for (const r of records) {
    if (r.lineage !== state.lineage || r.serial <= state.serial) continue;
    if (r.serial !== state.serial + 1) return false;
    if (!applyChange(state, r.change)) return false;
    state.serial = r.serial;
  }
  return true;
}
