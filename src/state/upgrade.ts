/**
 * Upgrades of older state formats, one function per version step, applied in a chain on read:
 * a version-1 document goes through upgrades[1] to become version 2, and so on up to
 * STATE_FORMAT_VERSION. Each function takes the decoded JSON of its version and returns the JSON of
 * the next; it never touches the file.
 *
 * Version 1 is the reference system's format: no checksum, no fingerprints or attempt counts on
 * steps, no `keep_on_failure` on instances, and fields it left out when empty.
 * Version 2 had one `template` record and builds keyed by name alone; version 3 keys them by
 * template (`<template id>/<build name>`, src/state/identity.ts) with a record per template.
 * Version 2 has no per-part input hashes (`inputs`) on builds and steps, no `snapshot` on steps and
 * no `post_processor_chains` on builds; version 3 adds them, empty ("unknown": the planner then
 * names a changed step without saying which part changed, and takes each post-processor as a chain
 * of its own).
 */
import { randomUUID } from 'node:crypto';
import { buildKey, templateIdOfRecordedPath } from './identity.js';
import { STATE_FORMAT_VERSION } from './types.js';

type Doc = Record<string, unknown>;

function obj(v: unknown): Doc {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : {};
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function upgradeStepV1(step: unknown): Doc {
  const s = obj(step);
  return {
    type: str(s.type),
    name: str(s.name),
    status: str(s.status) || 'pending',
    fingerprint: str(s.fingerprint),
    error: str(s.error),
    attempts: typeof s.attempts === 'number' ? s.attempts : s.status && s.status !== 'pending' ? 1 : 0,
    started_at: str(s.started_at),
    ended_at: str(s.ended_at),
  };
}

function upgradeV1toV2(doc: Doc): Doc {
  const builds: Doc = {};
  for (const [key, value] of Object.entries(obj(doc.builds))) {
    const b = obj(value);
    const inst = b.instance === null || b.instance === undefined ? null : obj(b.instance);
    builds[key] = {
      name: str(b.name),
      type: str(b.type),
      status: str(b.status) || 'pending',
      fingerprint: str(b.fingerprint),
      error: str(b.error),
      started_at: str(b.started_at),
      completed_at: str(b.completed_at),
      instance: inst && {
        id: str(inst.id),
        builder_id: str(inst.builder_id),
        provider: str(inst.provider),
        created_at: str(inst.created_at),
        metadata: obj(inst.metadata),
        keep_on_failure: inst.keep_on_failure === true,
      },
      provisioners: list(b.provisioners).map(upgradeStepV1),
      post_processors: list(b.post_processors).map(upgradeStepV1),
      artifacts: list(b.artifacts).map((a) => {
        const r = obj(a);
        return {
          id: str(r.id),
          builder_id: str(r.builder_id),
          type: str(r.type),
          files: list(r.files).filter((f) => typeof f === 'string'),
          metadata: obj(r.metadata),
          hash: str(r.hash),
        };
      }),
    };
  }
  const t = obj(doc.template);
  const last = doc.last_run === null || doc.last_run === undefined ? null : obj(doc.last_run);
  return {
    version: 2,
    serial: typeof doc.serial === 'number' ? doc.serial : 0,
    lineage: str(doc.lineage) || randomUUID(),
    builder_version: str(doc.builder_version),
    packer_version: str(doc.packer_version),
    template: { path: str(t.path), hash: str(t.hash), variables: obj(t.variables), files: obj(t.files) },
    builds,
    last_run: last && { run_uuid: str(last.run_uuid), started_at: str(last.started_at), completed_at: str(last.completed_at) },
  };
}

/**
 * Moves every build under the template the state's one `template.path` names (the only template
 * a version-2 state can have recorded: each run overwrote it), and makes that record the
 * template's entry in `templates`.
 */
function upgradeV2toV3(doc: Doc): Doc {
  const { template, builds, ...rest } = addPlannerFields(doc);
  const t = obj(template);
  const id = templateIdOfRecordedPath(str(t.path));
  const moved: Doc = {};
  for (const [key, value] of Object.entries(obj(builds))) moved[buildKey(id, key)] = value;
  const recorded = str(t.path) !== '' || str(t.hash) !== '';
  return {
    ...rest,
    version: 3,
    templates: recorded ? { [id]: { path: str(t.path), hash: str(t.hash), variables: obj(t.variables), files: obj(t.files) } } : {},
    builds: moved,
  };
}

/** Adds the per-part input hashes, snapshots and chain lengths version 2 lacks, empty. */
function addPlannerFields(doc: Doc): Doc {
  const builds: Doc = {};
  for (const [key, value] of Object.entries(obj(doc.builds))) {
    const b = obj(value);
    const step = (s: unknown): unknown => (s !== null && typeof s === 'object' ? { ...obj(s), inputs: {}, snapshot: null } : s);
    builds[key] = {
      ...b,
      inputs: {},
      post_processor_chains: [],
      provisioners: Array.isArray(b.provisioners) ? b.provisioners.map(step) : b.provisioners,
      post_processors: Array.isArray(b.post_processors) ? b.post_processors.map(step) : b.post_processors,
    };
  }
  return { ...doc, builds };
}

/** upgrades[v] turns a version-v document into a version-(v+1) one. */
const upgrades: Record<number, (doc: Doc) => Doc> = {
  1: upgradeV1toV2,
  2: upgradeV2toV3,
};

/** True when `version` is one this builder can read (possibly after upgrades). */
export function isKnownVersion(version: unknown): version is number {
  return typeof version === 'number' && Number.isInteger(version) && version >= 1 && version <= STATE_FORMAT_VERSION;
}

/**
 * One build record of a version-`version` document (a journal record carries single builds),
 * taken through the same chain as a whole document: it is upgraded as the only build of a document
 * of that version. Only the record changes from version to version, not its key's meaning here.
 */
export function upgradeBuildRecord(build: unknown, version: number): unknown {
  if (version >= STATE_FORMAT_VERSION) return build;
  const doc = upgradeDocument({ version, serial: 0, lineage: 'x', builds: { b: build }, template: {} });
  return Object.values(obj(doc.builds))[0];
}

/** One step record of a version-`version` document, upgraded as the only step of a build. */
export function upgradeStepRecord(step: unknown, version: number): unknown {
  if (version >= STATE_FORMAT_VERSION) return step;
  return list(obj(upgradeBuildRecord({ provisioners: [step], post_processors: [] }, version)).provisioners)[0];
}

/** Applies the chain of upgrades from `doc.version` to STATE_FORMAT_VERSION. */
export function upgradeDocument(doc: Doc): Doc {
  let current = doc;
  while ((current.version as number) < STATE_FORMAT_VERSION) {
    const step = upgrades[current.version as number];
    if (!step) throw new Error(`no upgrade from state format version ${String(current.version)}`);
    current = step(current);
  }
  return current;
}
