/**
 * Fingerprints of a build's inputs, compared with the state to decide what must run again.
 *
 * Contracts:
 * - A fingerprint is "sha256:<hex>" of a canonical JSON document: object keys sorted, `undefined`
 *   (values unknown until the build runs, such as `build.Host`) written as a fixed marker, so the
 *   same configuration always gives the same fingerprint.
 * - The content of every local file a step reads (scripts, `file` sources; directories recursively)
 *   is part of its fingerprint, so editing a script counts as an edit. Values that `file()` or
 *   `templatefile()` read are already inside the evaluated configuration.
 * - Sensitive values enter a fingerprint only as salted hashes: every occurrence of a sensitive
 *   string is replaced by its keyed slow hash (secretDigest, src/state/sensitive.ts) before
 *   hashing, so the fingerprint cannot be used to test guesses of a secret without the state's key.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userSystemError } from '../errors.js';
import { canonicalJson, secretDigest } from '../state/sensitive.js';
import type { BuildInputs } from './plan.js';

export interface FingerprintInput {
  /** The evaluated configuration (plain JS data). */
  config: unknown;
  /** Strings that came from sensitive values. */
  sensitive?: readonly string[];
  /** Local files and folders the step reads, relative to `cwd` or absolute. */
  files?: readonly string[];
  /** Anything else that identifies the step (its type, name). */
  identity?: Record<string, string>;
  /** contentDigest of files already computed, by path as in `files` (read once per run). */
  digests?: Readonly<Record<string, string>>;
}

function sensitiveToken(secret: string, salt: string): string {
  return `<sensitive:${secretDigest(secret, salt)}>`;
}

/** Replaces every occurrence of a sensitive string inside string values by its salted hash. */
export function maskSensitive(data: unknown, sensitive: readonly string[], salt: string): unknown {
  const secrets = [...new Set(sensitive.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return data;
  const tokens = new Map(secrets.map((s) => [s, sensitiveToken(s, salt)]));
  const walk = (d: unknown): unknown => {
    if (typeof d === 'string') {
      let out = d;
      for (const s of secrets) if (out.includes(s)) out = out.split(s).join(tokens.get(s)!);
      return out;
    }
    if (Array.isArray(d)) return d.map(walk);
    if (d && typeof d === 'object') return Object.fromEntries(Object.entries(d).map(([k, v]) => [walk(k) as string, walk(v)]));
    return d;
  };
  return walk(data);
}

/** A digest of a file or folder's content ("missing" when it does not exist). Folders: every
 * entry's relative path, kind and content, in sorted order. Symbolic links: their target text. */
export function contentDigest(path: string): string {
  const h = createHash('sha256');
  const unreadable = (p: string, err: unknown): unknown =>
    userSystemError(err, 'read', p, 'builder reads every file a build uses, to tell whether it changed: make it readable, or leave it out of the template.');
  const add = (p: string, rel: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      h.update(`missing ${rel}\n`);
      return;
    }
    if (st.isSymbolicLink()) {
      h.update(`link ${rel} ${readlinkSync(p)}\n`);
    } else if (st.isDirectory()) {
      h.update(`dir ${rel} ${st.mode & 0o777}\n`);
      let names: string[];
      try {
        names = readdirSync(p).sort();
      } catch (err) {
        throw unreadable(p, err);
      }
      for (const name of names) add(join(p, name), rel === '' ? name : `${rel}/${name}`);
    } else {
      h.update(`file ${rel} ${st.mode & 0o777} ${st.size}\n`);
      try {
        h.update(readFileSync(p));
      } catch (err) {
        throw unreadable(p, err);
      }
      h.update('\n');
    }
  };
  add(path, '');
  return h.digest('hex');
}

/** The fingerprint of one component's inputs. */
export function fingerprint(input: FingerprintInput, salt: string, cwd: string): string {
  const files: Record<string, string> = {};
  for (const f of input.files ?? []) files[f] = input.digests?.[f] ?? contentDigest(resolve(cwd, f));
  const doc = {
    identity: input.identity ?? {},
    config: maskSensitive(input.config, input.sensitive ?? [], salt),
    files,
  };
  return `sha256:${createHash('sha256').update(canonicalJson(doc)).digest('hex')}`;
}

/**
 * "sha256:<hex>" of a list of artifact files (their content, in the order given). Files in
 * `sharedOutputs` (absolute paths: post-processors' output files, which other builds may append
 * to — PostProcessorDef.outputFiles) count by name only; the planner checks that they exist.
 */
export function artifactFilesHash(files: readonly string[], cwd: string, sharedOutputs: ReadonlySet<string> = new Set()): string {
  if (files.length === 0) return '';
  const h = createHash('sha256');
  for (const f of files) {
    const path = resolve(cwd, f);
    h.update(`${f}\n${sharedOutputs.has(path) ? 'output' : contentDigest(path)}\n`);
  }
  return `sha256:${h.digest('hex')}`;
}

/** The absolute paths of every post-processor output file of a build (see artifactFilesHash). */
export function sharedOutputFiles(inputs: Pick<BuildInputs, 'postProcessorChains'>, cwd: string): Set<string> {
  return new Set(inputs.postProcessorChains.flat().flatMap((s) => (s.outputs ?? []).map((f) => resolve(cwd, f))));
}
