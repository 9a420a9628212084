/**
 * The state file's bytes: JSON with a checksum of its own content.
 *
 * Layout (one top-level member per line, each value compact, `checksum` last):
 *
 *   {"version":3,
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
 * Lazy builds (`lazyBuilds`, what the file backend uses): the whole file's checksum is verified
 * and the top-level members are parsed and validated at once; the builds text is only cut into
 * its entries (a scan for the commas between them, skipping strings) and each build is parsed and
 * validated on first access (a fault then throws StateCorruptError). A build never accessed is
 * written back from its verified text, unparsed. Files of another layout (`state push`, indented)
 * are decoded eagerly.
 *
 * A file without a checksum is accepted only where a person wrote it (`state push`) or when it
 * is of format version 1 (which had none).
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { StateCorruptError, StateVersionError } from './errors.js';
import { isKnownVersion, upgradeDocument } from './upgrade.js';
import { BUILD_STATUSES, STATE_FORMAT_VERSION, STEP_STATUSES, type BuildState, type StateFile } from './types.js';

const CHECKSUM_TAIL = /,\s*"checksum"\s*:\s*"sha256:([0-9a-f]{64})"\s*\}\s*$/;

/** Encodes a state as the bytes of its file (one buffer, written with one call). */
export function encodeState(state: StateFile): Buffer {
  const out = new ByteWriter();
  out.text(
    `{"version":${state.version},\n` +
      `"serial":${state.serial},\n` +
      `"lineage":${JSON.stringify(state.lineage)},\n` +
      `"builder_version":${JSON.stringify(state.builder_version)},\n` +
      `"packer_version":${JSON.stringify(state.packer_version)},\n` +
      `"templates":${JSON.stringify(state.templates)},\n` +
      `"last_run":${JSON.stringify(state.last_run)},\n` +
      `"builds":`,
  );
  if (!lazyBuildObjects.has(state.builds)) {
    out.text(JSON.stringify(state.builds));
  } else {
    // Builds never accessed are written back from their verified text.
    let sep = '{';
    for (const key of Object.keys(state.builds)) {
      out.text(`${sep}${JSON.stringify(key)}:`);
      out.text(rawBuildText(state.builds, key) ?? JSON.stringify(state.builds[key]));
      sep = ',';
    }
    out.text(sep === '{' ? '{}' : '}');
  }
  const sum = createHash('sha256').update(out.bytes()).digest('hex');
  out.text(`,\n"checksum":"sha256:${sum}"}\n`);
  return out.bytes();
}

/** Appends text as UTF-8 to a buffer that grows by doubling. */
class ByteWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  text(s: string): void {
    let need = 3 * s.length; // a UTF-16 unit is at most 3 bytes of UTF-8
    if (this.length + need > this.buffer.length && s.length > 65536) need = Buffer.byteLength(s); // exact, for the large part
    if (this.length + need > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.length + need + 65536, 2 * this.buffer.length));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += this.buffer.write(s, this.length, 'utf8');
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
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
  /**
   * Parse and validate each build on first access (see the module comment), when the file is
   * checksummed, of the current version and laid out one build per line. Default false: every
   * build is parsed and validated before decodeState returns.
   */
  lazyBuilds?: boolean;
  /**
   * Called with the decoded document of an older format version, verified but not yet upgraded,
   * which it may change in place (the file backend replays its journal here, in the document's own
   * format: src/state/file/journal.ts). Not called for a document of the current version.
   */
  beforeUpgrade?: (doc: Record<string, unknown>) => void;
}

/** Decodes, verifies, upgrades and validates a state file. Throws StateCorruptError / StateVersionError. */
/** The largest state file that can be decoded (V8's maximum string length, in one-byte characters). */
export const MAX_STATE_BYTES = 0x1fffffe8;

export function decodeState(bytes: Buffer, opts: DecodeOptions): StateFile {
  const fail = (fault: string): never => {
    throw new StateCorruptError(opts.file, fault, opts.backup);
  };
  if (bytes.length === 0 || (bytes.length < 4096 && bytes.toString('latin1').trim() === '')) fail('the file is empty');
  // V8's longest string: a bigger file cannot be decoded at all (it failed as an internal error).
  if (bytes.length > MAX_STATE_BYTES) fail(`it is ${bytes.length} bytes long; builder reads states of up to ${MAX_STATE_BYTES} bytes`);
  if (bytes.includes(0)) fail(`it contains a null byte at offset ${bytes.indexOf(0)} (the file is damaged)`);
  const tailStart = Math.max(0, bytes.length - 160);
  const tail = CHECKSUM_TAIL.exec(bytes.subarray(tailStart).toString('latin1'));
  if (tail) {
    const expected = tail[1]!;
    const actual = createHash('sha256').update(bytes.subarray(0, tailStart + tail.index)).digest('hex');
    if (actual !== expected) fail('its checksum does not match its content (it was edited by hand or damaged)');
  }
  // Pure-ASCII files (the usual case) decode faster as latin1, into V8's compact one-byte strings.
  const text = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  if (tail && opts.lazyBuilds) {
    const lazy = decodeLazily(text, opts);
    if (lazy) return lazy;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const atEnd = /end of JSON input|Unterminated/.test(msg) || msg.endsWith(`at position ${text.length}`);
    fail(`it is not valid JSON (${msg})${atEnd ? '; the file looks truncated' : ''}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('it is not a JSON object');
  const record = doc as Record<string, unknown>;
  if (!isKnownVersion(record.version)) throw new StateVersionError(opts.file, record.version, STATE_FORMAT_VERSION, opts.backup);
  if (!tail && opts.requireChecksum && record.version >= 2) fail('it has no checksum (it was written by hand or cut short)');
  delete record.checksum;
  if (record.version < STATE_FORMAT_VERSION) opts.beforeUpgrade?.(record);
  const upgraded = record.version < STATE_FORMAT_VERSION ? upgradeDocument(record) : record;
  const fault = validateState(upgraded);
  if (fault) fail(fault);
  return upgraded as unknown as StateFile;
}

// ---- lazy builds ----------------------------------------------------------------------------------

/** The verified text of each build not yet decoded, by the getter that decodes it. */
const rawTextOf = new WeakMap<() => unknown, string>();
/** The `builds` objects decodeLazily made (only their entries can have raw text). */
const lazyBuildObjects = new WeakSet<object>();

/** The file text of `builds[key]` when that build was never accessed (an untouched lazy build). */
function rawBuildText(builds: Record<string, BuildState>, key: string): string | undefined {
  const get = Object.getOwnPropertyDescriptor(builds, key)?.get;
  return get === undefined ? undefined : rawTextOf.get(get);
}

const BUILDS_MEMBER = '\n"builds":{';
const CHECKSUM_MEMBER = ',\n"checksum":';

/**
 * Decodes a checksummed file of the current version in builder's layout, leaving each build to be
 * decoded on first access. Undefined when the text is not of that layout (the caller then decodes
 * eagerly, which also names any fault).
 */
function decodeLazily(text: string, opts: DecodeOptions): StateFile | undefined {
  const member = text.indexOf(BUILDS_MEMBER);
  const end = text.lastIndexOf(CHECKSUM_MEMBER);
  if (member < 0 || end < member) return undefined;
  const open = member + BUILDS_MEMBER.length - 1;
  let head: unknown;
  try {
    head = JSON.parse(`${text.slice(0, member + 1)}"builds":{}}`);
  } catch {
    return undefined;
  }
  if (!isObj(head) || head.version !== STATE_FORMAT_VERSION) return undefined;
  const entries = buildEntries(text, open, end);
  if (!entries) return undefined;
  const fault = validateState(head);
  if (fault) throw new StateCorruptError(opts.file, fault, opts.backup);
  const builds: Record<string, BuildState> = {};
  for (let i = 0; i + 1 < entries.length; i++) {
    const entry = splitEntry(text.slice(entries[i]! + 1, entries[i + 1]));
    if (!entry) return undefined;
    defineLazyBuild(builds, entry[0], entry[1], opts);
  }
  lazyBuildObjects.add(builds);
  head.builds = builds;
  return head as unknown as StateFile;
}

/**
 * The offsets of the `{`, of each `,` between entries and of the `}` of the object at `open`
 * (compact JSON, as JSON.stringify writes it), which must close just before `end`; undefined
 * otherwise. Strings are skipped whole, so braces and commas inside them do not count.
 */
function buildEntries(text: string, open: number, end: number): number[] | undefined {
  const cuts = [open];
  let depth = 0;
  for (let i = open; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Find the closing quote: one preceded by an even number of backslashes.
      let q = i;
      for (;;) {
        q = text.indexOf('"', q + 1);
        if (q < 0 || q >= end) return undefined;
        let b = q - 1;
        while (text.charCodeAt(b) === 0x5c) b--;
        if ((q - 1 - b) % 2 === 0) break;
      }
      i = q;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) {
        if (i !== end - 1) return undefined;
        if (cuts.length > 1 || i > open + 1) cuts.push(i);
        return cuts;
      }
    } else if (c === 0x2c && depth === 1) {
      cuts.push(i);
    }
  }
  return undefined;
}

/** `"key":{…}` → [key, '{…}']; undefined when the text is not one build entry. */
function splitEntry(entry: string): [string, string] | undefined {
  if (entry.charCodeAt(0) !== 0x22) return undefined;
  let q = entry.indexOf('"', 1);
  let key: string;
  if (entry.lastIndexOf('\\', q) < 0) {
    key = entry.slice(1, q);
  } else {
    // The key has escapes: find its closing quote (one not escaped) and let JSON decode it.
    for (q = 1; q < entry.length; q++) {
      const c = entry.charCodeAt(q);
      if (c === 0x5c) q++;
      else if (c === 0x22) break;
    }
    try {
      key = JSON.parse(entry.slice(0, q + 1)) as string;
    } catch {
      return undefined;
    }
  }
  if (q < 0 || entry.charCodeAt(q + 1) !== 0x3a || entry.charCodeAt(q + 2) !== 0x7b) return undefined;
  return [key, entry.slice(q + 2)];
}

function defineLazyBuild(builds: Record<string, BuildState>, key: string, raw: string, opts: DecodeOptions): void {
  let decoded: BuildState | undefined;
  const get = (): BuildState => {
    if (decoded !== undefined) return decoded;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      const fault = `build "${key}" is not valid JSON (${err instanceof Error ? err.message : String(err)})`;
      throw new StateCorruptError(opts.file, fault, opts.backup, 'STATE_CORRUPT', false);
    }
    const fault = validateBuild(key, value);
    if (fault) throw new StateCorruptError(opts.file, fault, opts.backup, 'STATE_CORRUPT', false);
    // From now on the object is what the state holds (it may be changed in place): no raw text.
    rawTextOf.delete(get);
    decoded = value as BuildState;
    return decoded;
  };
  const set = (value: BuildState): void => {
    Object.defineProperty(builds, key, { value, writable: true, enumerable: true, configurable: true });
  };
  rawTextOf.set(get, raw);
  Object.defineProperty(builds, key, { get, set, enumerable: true, configurable: true });
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
  if (!isStringMap(s.inputs)) return `${where}: "inputs" must be an object of strings`;
  if (s.snapshot !== null) {
    if (!isObj(s.snapshot)) return `${where}: "snapshot" must be an object or null`;
    const fs = checkStrings(`${where} snapshot`, s.snapshot, ['id', 'chain']);
    if (fs) return fs;
  }
  return undefined;
}

function isStringMap(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

function isSnapshot(v: unknown): boolean {
  return v === null || (isObj(v) && typeof v.id === 'string' && typeof v.chain === 'string');
}

function isCountList(v: unknown): boolean {
  return Array.isArray(v) && v.every((n) => Number.isInteger(n) && (n as number) > 0);
}

function checkBuild(key: string, b: unknown): string | undefined {
  const where = `build "${key}"`;
  if (!isObj(b)) return `${where} is not an object`;
  const f = checkStrings(where, b, ['name', 'type', 'fingerprint', 'error', 'started_at', 'completed_at']);
  if (f) return f;
  if (!buildStatuses.has(b.status as string)) return `${where}: unknown status ${JSON.stringify(b.status)}`;
  if (!isStringMap(b.inputs)) return `${where}: "inputs" must be an object of strings`;
  if (!isCountList(b.post_processor_chains)) return `${where}: "post_processor_chains" must be a list of chain lengths`;
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

// A fast yes/no check of the common case (monomorphic property reads, no messages); only a record
// that fails it goes through the descriptive checks above, which name the fault.
type Rec = Record<string, unknown>;

function okStep(s: unknown): boolean {
  if (!isObj(s)) return false;
  const r = s as Rec;
  return (
    typeof r.type === 'string' &&
    typeof r.name === 'string' &&
    typeof r.fingerprint === 'string' &&
    typeof r.error === 'string' &&
    typeof r.started_at === 'string' &&
    typeof r.ended_at === 'string' &&
    stepStatuses.has(r.status as string) &&
    Number.isInteger(r.attempts) &&
    (r.attempts as number) >= 0 &&
    isStringMap(r.inputs) &&
    isSnapshot(r.snapshot)
  );
}

function okSteps(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!okStep(v[i])) return false;
  return true;
}

function okBuild(b: unknown): boolean {
  if (!isObj(b)) return false;
  const r = b as Rec;
  if (
    typeof r.name !== 'string' ||
    typeof r.type !== 'string' ||
    typeof r.fingerprint !== 'string' ||
    typeof r.error !== 'string' ||
    typeof r.started_at !== 'string' ||
    typeof r.completed_at !== 'string' ||
    !buildStatuses.has(r.status as string) ||
    !isStringMap(r.inputs) ||
    !isCountList(r.post_processor_chains)
  ) {
    return false;
  }
  const i = r.instance as Rec | null;
  if (
    i !== null &&
    !(
      isObj(i) &&
      typeof i.id === 'string' &&
      typeof i.builder_id === 'string' &&
      typeof i.provider === 'string' &&
      typeof i.created_at === 'string' &&
      isObj(i.metadata) &&
      typeof i.keep_on_failure === 'boolean'
    )
  ) {
    return false;
  }
  if (!okSteps(r.provisioners) || !okSteps(r.post_processors) || !Array.isArray(r.artifacts)) return false;
  for (const a of r.artifacts as unknown[]) {
    if (!isObj(a)) return false;
    const x = a as Rec;
    if (typeof x.id !== 'string' || typeof x.builder_id !== 'string' || typeof x.type !== 'string' || typeof x.hash !== 'string') return false;
    if (!isObj(x.metadata) || !Array.isArray(x.files)) return false;
    for (const f of x.files as unknown[]) if (typeof f !== 'string') return false;
  }
  return true;
}

/** Checks a decoded (and upgraded) document against the StateFile shape; returns the first fault. */
export function validateState(doc: Record<string, unknown>): string | undefined {
  // Safe integers only, below the largest: past 2^53 adding 1 changes nothing (the serial would stop
  // growing, and every later write would look like no change).
  if (typeof doc.serial !== 'number' || !Number.isSafeInteger(doc.serial) || doc.serial < 0 || doc.serial >= Number.MAX_SAFE_INTEGER) {
    return `"serial" must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER - 1}`;
  }
  if (typeof doc.lineage !== 'string' || doc.lineage === '') return '"lineage" must be a non-empty string';
  const f = checkStrings('the state', doc, ['builder_version', 'packer_version']);
  if (f) return f;
  if (!isObj(doc.templates)) return '"templates" must be an object';
  for (const id in doc.templates) {
    const t = doc.templates[id];
    if (!isObj(t)) return `"templates"."${id}" must be an object`;
    const ft = checkStrings(`"templates"."${id}"`, t, ['path', 'hash']);
    if (ft) return ft;
    if (!isObj(t.variables) || !isObj(t.files)) return `"templates"."${id}": "variables" and "files" must be objects`;
  }
  if (doc.last_run !== null) {
    if (!isObj(doc.last_run)) return '"last_run" must be an object or null';
    const fl = checkStrings('"last_run"', doc.last_run, ['run_uuid', 'started_at', 'completed_at']);
    if (fl) return fl;
  }
  if (!isObj(doc.builds)) return '"builds" must be an object';
  for (const key in doc.builds) {
    const build = doc.builds[key];
    if (key === '__proto__') return 'a build is named "__proto__", which is not a build key';
    if (okBuild(build)) continue;
    return checkBuild(key, build) ?? `build "${key}" is not a valid build record`;
  }
  return undefined;
}

/** Checks one step record (journal records of checkpoints carry single steps); `where` names it. */
export function validateStep(where: string, step: unknown): string | undefined {
  return okStep(step) ? undefined : (checkStep(where, step) ?? `${where} is not a valid step record`);
}

/** Checks one build record (journal records carry single builds). */
export function validateBuild(key: string, build: unknown): string | undefined {
  if (key === '__proto__') return 'a build is named "__proto__", which is not a build key';
  return okBuild(build) ? undefined : (checkBuild(key, build) ?? `build "${key}" is not a valid build record`);
}
