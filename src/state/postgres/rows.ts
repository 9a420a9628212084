/**
 * A state as rows (tables in schema.ts): reading a whole state, writing a whole state, and
 * writing the rows a sequence of StateChanges touched. No transaction handling here: the callers
 * (client.ts) run these inside one.
 *
 * A build row holds the build record without its `provisioners` and `post_processors`; each step
 * record is its own row (list, index), so a step's checkpoint writes one small row. Build order
 * is kept in `position` (a new build goes last; a replaced build keeps its place, as in a JS
 * object).
 */
import type pg from 'pg';
import { StateCorruptError, StateVersionError } from '../errors.js';
import { validateBuild, validateState, validateStep } from '../format.js';
import type { StateChange, StepList } from '../interfaces.js';
import type { BuildState, LastRun, StateFile, StepState, TemplateState } from '../types.js';
import { STATE_FORMAT_VERSION } from '../types.js';
import { isKnownVersion, upgradeDocument } from '../upgrade.js';

interface StateRow {
  lineage: string;
  serial: string;
  version: number;
  builder_version: string;
  packer_version: string;
  template: TemplateState;
  last_run: LastRun | null;
}

type BuildRecord = Omit<BuildState, StepList>;

/** Reads the whole state of `workspace`; undefined when there is none. Call inside a consistent snapshot. */
export async function readState(db: pg.PoolClient, s: string, workspace: string, where: string): Promise<StateFile | undefined> {
  const head = await db.query<StateRow>(
    `SELECT lineage, serial::text AS serial, version, builder_version, packer_version, template, last_run FROM ${s}.states WHERE workspace = $1`,
    [workspace],
  );
  const row = head.rows[0];
  if (!row) return undefined;
  const builds = await db.query<{ key: string; record: BuildRecord }>(
    `SELECT key, record FROM ${s}.builds WHERE workspace = $1 ORDER BY position, key`,
    [workspace],
  );
  const steps = await db.query<{ build: string; list: StepList; record: StepState }>(
    `SELECT build, list, record FROM ${s}.steps WHERE workspace = $1 ORDER BY build, list, index`,
    [workspace],
  );
  const doc: Record<string, unknown> = {
    version: row.version,
    serial: Number(row.serial),
    lineage: row.lineage,
    builder_version: row.builder_version,
    packer_version: row.packer_version,
    template: row.template,
    builds: assembleBuilds(builds.rows, steps.rows),
    last_run: row.last_run,
  };
  return checkDocument(doc, where);
}

/** Verifies and upgrades a state read from rows or history. */
export function checkDocument(doc: Record<string, unknown>, where: string): StateFile {
  if (!isKnownVersion(doc.version)) {
    if (typeof doc.version === 'number' && doc.version > STATE_FORMAT_VERSION) throw new StateVersionError(where, doc.version, STATE_FORMAT_VERSION, undefined);
    throw new StateCorruptError(where, `its format version ${JSON.stringify(doc.version)} is not valid`, undefined, 'STATE_CORRUPT', false);
  }
  const upgraded = doc.version < STATE_FORMAT_VERSION ? upgradeDocument(doc) : doc;
  const fault = validateState(upgraded);
  if (fault) throw new StateCorruptError(where, fault, undefined, 'STATE_CORRUPT', false);
  return upgraded as unknown as StateFile;
}

function assembleBuilds(
  builds: readonly { key: string; record: BuildRecord }[],
  steps: readonly { build: string; list: StepList; record: StepState }[],
): Record<string, BuildState> {
  const out: Record<string, BuildState> = {};
  for (const b of builds) out[b.key] = { ...b.record, provisioners: [], post_processors: [] };
  for (const st of steps) out[st.build]?.[st.list].push(st.record);
  return out;
}

function splitBuild(build: BuildState): { record: BuildRecord; steps: [StepList, number, StepState][] } {
  const { provisioners, post_processors, ...record } = build;
  const steps: [StepList, number, StepState][] = [];
  provisioners.forEach((p, i) => steps.push(['provisioners', i, p]));
  post_processors.forEach((p, i) => steps.push(['post_processors', i, p]));
  return { record, steps };
}

/** Replaces the state head (lineage, serial, template, …) of `workspace`, creating it when absent. */
export async function writeHead(db: pg.PoolClient, s: string, workspace: string, state: StateFile): Promise<void> {
  await db.query(`INSERT INTO ${s}.workspaces (name) VALUES ($1) ON CONFLICT DO NOTHING`, [workspace]);
  await db.query(
    `INSERT INTO ${s}.states (workspace, lineage, serial, version, builder_version, packer_version, template, last_run, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())
     ON CONFLICT (workspace) DO UPDATE SET lineage = excluded.lineage, serial = excluded.serial, version = excluded.version,
       builder_version = excluded.builder_version, packer_version = excluded.packer_version, template = excluded.template,
       last_run = excluded.last_run, updated_at = excluded.updated_at`,
    [workspace, state.lineage, state.serial, state.version, state.builder_version, state.packer_version, JSON.stringify(state.template), JSON.stringify(state.last_run)],
  );
}

/** Removes every build and step row of `workspace`, then writes `keys` of `state` (in order). */
export async function writeAllBuilds(db: pg.PoolClient, s: string, workspace: string, state: StateFile): Promise<void> {
  await db.query(`DELETE FROM ${s}.steps WHERE workspace = $1`, [workspace]);
  await db.query(`DELETE FROM ${s}.builds WHERE workspace = $1`, [workspace]);
  await writeBuilds(db, s, workspace, state, Object.keys(state.builds), []);
}

/**
 * Writes builds `keys` as they are in `state` (removed when absent there), then the step records
 * `steps` (of builds not among `keys`). Three statements whatever their number.
 */
export async function writeBuilds(
  db: pg.PoolClient,
  s: string,
  workspace: string,
  state: StateFile,
  keys: readonly string[],
  steps: readonly { build: string; list: StepList; index: number }[],
): Promise<void> {
  const rows: [string, BuildRecord][] = [];
  const stepRows: [string, StepList, number, StepState][] = [];
  const removed: string[] = [];
  for (const key of keys) {
    const build = state.builds[key];
    if (!build) {
      removed.push(key);
      continue;
    }
    const split = splitBuild(build);
    rows.push([key, split.record]);
    for (const [list, index, step] of split.steps) stepRows.push([key, list, index, step]);
  }
  if (keys.length > 0) {
    await db.query(`DELETE FROM ${s}.steps WHERE workspace = $1 AND build = ANY($2::text[])`, [workspace, keys]);
  }
  if (removed.length > 0) {
    await db.query(`DELETE FROM ${s}.builds WHERE workspace = $1 AND key = ANY($2::text[])`, [workspace, removed]);
  }
  if (rows.length > 0) {
    await db.query(
      `INSERT INTO ${s}.builds (workspace, key, position, record)
       SELECT $1, e.value->>0, base.p + e.n, e.value->1
         FROM json_array_elements($2::json) WITH ORDINALITY AS e(value, n),
              (SELECT coalesce(max(position), 0) AS p FROM ${s}.builds WHERE workspace = $1) base
       ON CONFLICT (workspace, key) DO UPDATE SET record = excluded.record`,
      [workspace, JSON.stringify(rows)],
    );
  }
  for (const st of steps) {
    if (keys.includes(st.build)) continue;
    const step = state.builds[st.build]?.[st.list][st.index];
    if (step) stepRows.push([st.build, st.list, st.index, step]);
  }
  if (stepRows.length > 0) {
    await db.query(
      `INSERT INTO ${s}.steps (workspace, build, list, index, record)
       SELECT $1, e->>0, e->>1, (e->>2)::integer, e->3 FROM json_array_elements($2::json) AS e
       ON CONFLICT (workspace, build, list, index) DO UPDATE SET record = excluded.record`,
      [workspace, JSON.stringify(stepRows)],
    );
  }
}

/** The builds and steps a sequence of changes touched (for writeBuilds). */
export function touched(changes: readonly StateChange[]): { keys: string[]; steps: { build: string; list: StepList; index: number }[] } {
  const keys = new Set<string>();
  const steps = new Map<string, { build: string; list: StepList; index: number }>();
  for (const c of changes) {
    for (const k of Object.keys(c.builds ?? {})) keys.add(k);
    for (const st of c.steps ?? []) steps.set(JSON.stringify([st.build, st.list, st.index]), { build: st.build, list: st.list, index: st.index });
  }
  return { keys: [...keys], steps: [...steps.values()] };
}

/** Checks the records of a change read back from history (written by builder, but verify anyway). */
export function validChange(change: StateChange): boolean {
  for (const [key, build] of Object.entries(change.builds ?? {})) if (build !== null && validateBuild(key, build) !== undefined) return false;
  for (const st of change.steps ?? []) if (validateStep('step', st.step) !== undefined) return false;
  return true;
}
