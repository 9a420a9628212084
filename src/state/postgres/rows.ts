/**
 * A state as rows (tables in schema.ts): reading a whole state, writing a whole state, and the
 * one statement that writes the rows a sequence of StateChanges touched. Reads and whole writes
 * run inside the callers' transactions (client.ts).
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
  /** The `templates` records of the state (column `template`). */
  template: Record<string, TemplateState>;
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
    templates: row.template,
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
  // The step lists go back where BuildState has them: just before `artifacts`.
  for (const b of builds) {
    const { artifacts, ...head } = b.record;
    out[b.key] = { ...head, provisioners: [], post_processors: [], artifacts };
  }
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
    [workspace, state.lineage, state.serial, state.version, state.builder_version, state.packer_version, JSON.stringify(state.templates), JSON.stringify(state.last_run)],
  );
}

/** Removes every build and step row of `workspace`, then writes those of `state` (in order). */
export async function writeAllBuilds(db: pg.PoolClient, s: string, workspace: string, state: StateFile): Promise<void> {
  await db.query(`DELETE FROM ${s}.steps WHERE workspace = $1`, [workspace]);
  await db.query(`DELETE FROM ${s}.builds WHERE workspace = $1`, [workspace]);
  const rows = changedRows(state, Object.keys(state.builds), []);
  if (rows.builds.length > 0) await db.query(`INSERT INTO ${s}.builds (workspace, key, position, record) ${BUILD_ROWS('$1', '$2', s)}`, [workspace, JSON.stringify(rows.builds)]);
  if (rows.steps.length > 0) await db.query(`INSERT INTO ${s}.steps (workspace, build, list, index, record) ${STEP_ROWS('$1', '$2')}`, [workspace, JSON.stringify(rows.steps)]);
}

/** What a change writes: build rows, step rows, removed builds, and the list lengths of rewritten builds. */
export interface ChangedRows {
  /** [key, record without step lists], in state order. */
  builds: [string, BuildRecord][];
  /** [build, list, index, step] */
  steps: [string, StepList, number, StepState][];
  removed: string[];
  /** [build, list, length]: step rows at or past `length` are removed (0 for a removed build). */
  lengths: [string, StepList, number][];
}

/** The rows to write for builds `keys` as they are in `state` (removed when absent) and step records `steps`. */
export function changedRows(state: StateFile, keys: readonly string[], steps: readonly { build: string; list: StepList; index: number }[]): ChangedRows {
  const out: ChangedRows = { builds: [], steps: [], removed: [], lengths: [] };
  const rewritten = new Set(keys);
  for (const key of keys) {
    const build = state.builds[key];
    if (!build) {
      out.removed.push(key);
      out.lengths.push([key, 'provisioners', 0], [key, 'post_processors', 0]);
      continue;
    }
    const split = splitBuild(build);
    out.builds.push([key, split.record]);
    out.lengths.push([key, 'provisioners', build.provisioners.length], [key, 'post_processors', build.post_processors.length]);
    for (const [list, index, step] of split.steps) out.steps.push([key, list, index, step]);
  }
  for (const st of steps) {
    if (rewritten.has(st.build)) continue;
    const step = state.builds[st.build]?.[st.list][st.index];
    if (step) out.steps.push([st.build, st.list, st.index, step]);
  }
  return out;
}

/** SELECT of build rows from a json array of [key, record] (new builds go after the last). */
const BUILD_ROWS = (ws: string, rows: string, s: string, extraFrom = ''): string =>
  `SELECT ${ws}, e.value->>0, base.p + e.n, e.value->1
     FROM ${extraFrom}json_array_elements(${rows}::json) WITH ORDINALITY AS e(value, n),
          (SELECT coalesce(max(position), 0) AS p FROM ${s}.builds WHERE workspace = ${ws}) base`;

/** SELECT of step rows from a json array of [build, list, index, record]. */
const STEP_ROWS = (ws: string, rows: string, extraFrom = ''): string =>
  `SELECT ${ws}, e->>0, e->>1, (e->>2)::integer, e->3 FROM ${extraFrom}json_array_elements(${rows}::json) AS e`;

/**
 * One statement that persists a sequence of changes: the state row moves from serial `$10` to
 * `$3` only if it is at `$10` and `fence` holds; every other write depends on that row having
 * moved (an empty `head` writes nothing). Returns one row: `updated` (0 or 1). Parameters:
 * $1 workspace, $2 lineage, $3 new serial, $4 builder_version, $5 packer_version,
 * $6/$7 template set?/value, $8/$9 last_run set?/value, $10 previous serial, $11–$13 the fence,
 * $14 synchronous_commit, $15 lengths, $16 removed, $17 builds, $18 steps, $19 the changes.
 */
export function putChangesSql(s: string, fence: string): string {
  const moved = 'EXISTS (SELECT 1 FROM head)';
  return `
    WITH cfg AS (SELECT set_config('synchronous_commit', $14, true) AS v),
    head AS (
      UPDATE ${s}.states SET serial = $3, builder_version = $4, packer_version = $5,
        template = CASE WHEN $6::boolean THEN $7::json ELSE template END,
        last_run = CASE WHEN $8::boolean THEN $9::json ELSE last_run END, updated_at = clock_timestamp()
      WHERE workspace = $1 AND lineage = $2 AND serial = $10 AND ${fence}
      RETURNING serial),
    cut AS (
      DELETE FROM ${s}.steps t USING json_array_elements($15::json) l
       WHERE ${moved} AND t.workspace = $1 AND t.build = l->>0 AND t.list = l->>1 AND t.index >= (l->>2)::integer),
    gone AS (DELETE FROM ${s}.builds WHERE ${moved} AND workspace = $1 AND key = ANY($16::text[])),
    b AS (
      INSERT INTO ${s}.builds (workspace, key, position, record) ${BUILD_ROWS('$1', '$17', s, 'head, ')}
      ON CONFLICT (workspace, key) DO UPDATE SET record = excluded.record),
    st AS (
      INSERT INTO ${s}.steps (workspace, build, list, index, record) ${STEP_ROWS('$1', '$18', 'head, ')}
      ON CONFLICT (workspace, build, list, index) DO UPDATE SET record = excluded.record),
    h AS (
      INSERT INTO ${s}.history (workspace, serial, kind, lineage, body)
      SELECT $1, $10 + e.n, 'change', $2, e.value FROM head, json_array_elements($19::json) WITH ORDINALITY AS e(value, n)
      ON CONFLICT (workspace, serial, kind) DO UPDATE SET lineage = excluded.lineage, body = excluded.body, created_at = excluded.created_at)
    SELECT (SELECT count(*) FROM head)::integer AS updated, (SELECT v FROM cfg) AS cfg`;
}

/** The builds and steps a sequence of changes touched (for changedRows). */
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
