/**
 * The state file's bytes: JSON with a checksum of its own content.
 *
 * Layout (one top-level member per line, each value compact, `checksum` last):
 *
 *   {"version":2,
 *   "serial":7,
 *   …
 *   "builds":{…},
 *   "checksum":"sha256:<hex>"}
 *
 * The checksum is the SHA-256 of every byte before the `,` that opens the checksum member, so a
 * reader verifies it without re-serialising anything, and the file stays plain JSON (`jq` reads
 * it; the checksum is one more member). Values are compact because serialising and parsing
 * indented JSON costs half as much again on a 10,000-build state (docs/benchmarks.md);
 * `builder state pull` and `state show -json` print it indented.
 *
 * A file without a checksum is accepted only where a person wrote it (`state push`) or when it
 * is of format version 1 (which had none).
 */
import { createHash } from 'node:crypto';
import { StateCorruptError, StateVersionError } from './errors.js';
import { isKnownVersion, upgradeDocument } from './upgrade.js';
import { BUILD_STATUSES, STATE_FORMAT_VERSION, STEP_STATUSES, type StateFile } from './types.js';

const CHECKSUM_TAIL = /,\s*"checksum"\s*:\s*"sha256:([0-9a-f]{64})"\s*\}\s*$/;

/** Encodes a state as the chunks of its file (written in order; no copy of the large body). */
export function encodeState(state: StateFile): Buffer[] {
  const text =
    `{"version":${state.version},\n` +
    `"serial":${state.serial},\n` +
    `"lineage":${JSON.stringify(state.lineage)},\n` +
    `"builder_version":${JSON.stringify(state.builder_version)},\n` +
    `"packer_version":${JSON.stringify(state.packer_version)},\n` +
    `"template":${JSON.stringify(state.template)},\n` +
    `"last_run":${JSON.stringify(state.last_run)},\n` +
    `"builds":${JSON.stringify(state.builds)}`;
  const body = Buffer.from(text, 'utf8');
  const sum = createHash('sha256').update(body).digest('hex');
  return [body, Buffer.from(`,\n"checksum":"sha256:${sum}"}\n`)];
}

/** The state indented for people (`state pull`, `state show -json`), with its checksum. */
export function encodeStateIndented(state: StateFile): string {
  const body = JSON.stringify(state, null, 2);
  const withoutBrace = body.slice(0, body.lastIndexOf('}')).replace(/\s+$/, '');
  const sum = createHash('sha256').update(withoutBrace).digest('hex');
  return `${withoutBrace},\n  "checksum": "sha256:${sum}"\n}\n`;
}

export interface DecodeOptions {
  /** Where the bytes come from, for messages. */
  file: string;
  /** The backup a user can restore, named in messages. */
  backup?: string;
  /** Refuse a version-2+ document that carries no checksum (files on disk). */
  requireChecksum: boolean;
}

/** Decodes, verifies, upgrades and validates a state file. Throws StateCorruptError / StateVersionError. */
export function decodeState(bytes: Buffer, opts: DecodeOptions): StateFile {
  const fail = (fault: string): never => {
    throw new StateCorruptError(opts.file, fault, opts.backup);
  };
  if (bytes.length === 0 || (bytes.length < 4096 && bytes.toString('latin1').trim() === '')) fail('the file is empty');
  if (bytes.includes(0)) fail(`it contains a null byte at offset ${bytes.indexOf(0)} (the file is damaged)`);
  const tailStart = Math.max(0, bytes.length - 160);
  const tail = CHECKSUM_TAIL.exec(bytes.subarray(tailStart).toString('latin1'));
  if (tail) {
    const expected = tail[1]!;
    const actual = createHash('sha256').update(bytes.subarray(0, tailStart + tail.index)).digest('hex');
    if (actual !== expected) fail('its checksum does not match its content (it was edited by hand or damaged)');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    fail(`it is not valid JSON (${msg})${/end of JSON input|Unterminated/.test(msg) ? '; the file looks truncated' : ''}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('it is not a JSON object');
  const record = doc as Record<string, unknown>;
  if (!isKnownVersion(record.version)) throw new StateVersionError(opts.file, record.version, STATE_FORMAT_VERSION, opts.backup);
  if (!tail && opts.requireChecksum && record.version >= 2) fail('it has no checksum (it was written by hand or cut short)');
  delete record.checksum;
  const upgraded = record.version < STATE_FORMAT_VERSION ? upgradeDocument(record) : record;
  const fault = validateState(upgraded);
  if (fault) fail(fault);
  return upgraded as unknown as StateFile;
}

// ---- validation: one small check per record kind; each returns the first fault, or undefined ----

const buildStatuses: ReadonlySet<string> = new Set(BUILD_STATUSES);
const stepStatuses: ReadonlySet<string> = new Set(STEP_STATUSES);

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkStrings(where: string, v: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const n of names) if (typeof v[n] !== 'string') return `${where}: "${n}" must be a string`;
  return undefined;
}

function checkStep(where: string, s: unknown): string | undefined {
  if (!isObj(s)) return `${where} is not an object`;
  const f = checkStrings(where, s, ['type', 'name', 'fingerprint', 'error', 'started_at', 'ended_at']);
  if (f) return f;
  if (!stepStatuses.has(s.status as string)) return `${where}: unknown status ${JSON.stringify(s.status)}`;
  if (typeof s.attempts !== 'number' || !Number.isInteger(s.attempts) || s.attempts < 0) return `${where}: "attempts" must be a count`;
  return undefined;
}

function checkBuild(key: string, b: unknown): string | undefined {
  const where = `build "${key}"`;
  if (!isObj(b)) return `${where} is not an object`;
  const f = checkStrings(where, b, ['name', 'type', 'fingerprint', 'error', 'started_at', 'completed_at']);
  if (f) return f;
  if (!buildStatuses.has(b.status as string)) return `${where}: unknown status ${JSON.stringify(b.status)}`;
  if (b.instance !== null) {
    if (!isObj(b.instance)) return `${where}: "instance" must be an object or null`;
    const fi = checkStrings(`${where} instance`, b.instance, ['id', 'builder_id', 'provider', 'created_at']);
    if (fi) return fi;
    if (!isObj(b.instance.metadata)) return `${where} instance: "metadata" must be an object`;
    if (typeof b.instance.keep_on_failure !== 'boolean') return `${where} instance: "keep_on_failure" must be true or false`;
  }
  for (const kind of ['provisioners', 'post_processors'] as const) {
    const steps = b[kind];
    if (!Array.isArray(steps)) return `${where}: "${kind}" must be a list`;
    for (let i = 0; i < steps.length; i++) {
      const fs = checkStep(`${where} ${kind}[${i}]`, steps[i]);
      if (fs) return fs;
    }
  }
  if (!Array.isArray(b.artifacts)) return `${where}: "artifacts" must be a list`;
  for (let i = 0; i < b.artifacts.length; i++) {
    const a: unknown = b.artifacts[i];
    const w = `${where} artifacts[${i}]`;
    if (!isObj(a)) return `${w} is not an object`;
    const fa = checkStrings(w, a, ['id', 'builder_id', 'type', 'hash']);
    if (fa) return fa;
    if (!Array.isArray(a.files) || a.files.some((x) => typeof x !== 'string')) return `${w}: "files" must be a list of strings`;
    if (!isObj(a.metadata)) return `${w}: "metadata" must be an object`;
  }
  return undefined;
}

/** Checks a decoded (and upgraded) document against the StateFile shape; returns the first fault. */
export function validateState(doc: Record<string, unknown>): string | undefined {
  if (typeof doc.serial !== 'number' || !Number.isInteger(doc.serial) || doc.serial < 0) return '"serial" must be a whole number';
  if (typeof doc.lineage !== 'string' || doc.lineage === '') return '"lineage" must be a non-empty string';
  const f = checkStrings('the state', doc, ['builder_version', 'packer_version']);
  if (f) return f;
  const t = doc.template;
  if (!isObj(t)) return '"template" must be an object';
  const ft = checkStrings('"template"', t, ['path', 'hash']);
  if (ft) return ft;
  if (!isObj(t.variables) || !isObj(t.files)) return '"template": "variables" and "files" must be objects';
  if (doc.last_run !== null) {
    if (!isObj(doc.last_run)) return '"last_run" must be an object or null';
    const fl = checkStrings('"last_run"', doc.last_run, ['run_uuid', 'started_at', 'completed_at']);
    if (fl) return fl;
  }
  if (!isObj(doc.builds)) return '"builds" must be an object';
  for (const key in doc.builds) {
    const fb = checkBuild(key, doc.builds[key]);
    if (fb) return fb;
  }
  return undefined;
}

/** Checks one build record (journal records carry single builds). */
export function validateBuild(key: string, build: unknown): string | undefined {
  return checkBuild(key, build);
}
