/**
 * The inputs of one bound build as the planner compares them with the state: the source's and
 * each step's fingerprint, per-part hashes that let the plan name what changed, and why parts may
 * change by themselves (impure functions, variables) — computed from the bind pass's evaluation
 * (src/plan/bind.ts); nothing is evaluated again here.
 *
 * Contracts:
 * - A step's fingerprint covers its type, name, evaluated configuration and the content of every
 *   local file it declares through `inputFiles` (provisioners and post-processors alike);
 *   post-processors also declare the files they write (`outputFiles`), which the planner checks.
 * - `inputs` (per part) holds one short salted hash per top-level attribute of the evaluated
 *   configuration (key: its name) and per input file (key: "file:" + the path as declared): the
 *   first 16 hex digits of SHA-256 of the lineage (`salt`) and the part, so the state never holds
 *   a value, nor a hash that a guess of a value could be checked against without the salt.
 * - `ignore` (Terraform's `ignore_changes`): exact paths of top-level attributes left out of the
 *   fingerprints and part hashes, so a value that changes on every run (a name with timestamp())
 *   does not make the build run again. Syntax (no globs):
 *     source.TYPE.NAME.ATTR       an attribute of the source TYPE.NAME (the `source` block's name,
 *                                 or the name the build gives it);
 *     provisioner.N.ATTR          an attribute of the build's Nth provisioner (1-based, as plans
 *                                 number them);
 *     post-processor.N.ATTR       an attribute of the Nth post-processor (1-based, counted across
 *                                 chains, as plans number them).
 *   A path applies to every build that has that step; files a step reads stay fingerprinted.
 * - A component a plugin serves (its def's `plugin`) has the plugin's identity (served component,
 *   name, version, executable digest) in its fingerprint, and one part hash "plugin:NAME", so a
 *   plugin upgraded or replaced makes the build or step changed, named by the plugin.
 * - The state's lineage is the salt for sensitive values (see fingerprint.ts).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { canonicalJson } from '../state/sensitive.js';
import type { PluginIdentity } from '../sdk/component.js';
import type { Template } from '../template/model.js';
import type { BoundBuild, BoundPostProcessor, BoundProvisioner } from './bind.js';
import { contentDigest, fingerprint, maskSensitive } from './fingerprint.js';
import { localExpressions, partCauses } from './impure.js';
import type { BuildInputs, PlannedStep } from './plan.js';

export interface BuildInputsOptions {
  /** Attribute paths left out of fingerprints (see the module comment). */
  ignore?: readonly string[];
  /** The template, whose locals are walked to find impure values and variables (optional: without
   * it only the attributes' own expressions are walked). */
  template?: Pick<Template, 'files'>;
}

/** A parsed ignore path. */
export interface IgnorePath {
  kind: 'source' | 'provisioner' | 'post-processor';
  /** source: "TYPE.NAME"; steps: the 1-based number as text. */
  target: string;
  attribute: string;
}

const IGNORE_SYNTAX = 'source.TYPE.NAME.ATTRIBUTE, provisioner.N.ATTRIBUTE or post-processor.N.ATTRIBUTE (N counts from 1)';

/** Parses ignore paths; throws a UsageError naming the first one that is not of the syntax. */
export function parseIgnorePaths(paths: readonly string[]): IgnorePath[] {
  return paths.map((p) => {
    const parts = p.split('.');
    const name = /^[A-Za-z_][A-Za-z0-9_-]*$/;
    if (parts[0] === 'source' && parts.length === 4 && parts.slice(1).every((x) => name.test(x))) {
      return { kind: 'source', target: `${parts[1]}.${parts[2]}`, attribute: parts[3]! };
    }
    if ((parts[0] === 'provisioner' || parts[0] === 'post-processor') && parts.length === 3 && /^[1-9][0-9]*$/.test(parts[1]!) && name.test(parts[2]!)) {
      return { kind: parts[0], target: parts[1]!, attribute: parts[2]! };
    }
    throw new UsageError(`the ignored attribute path "${p}" is not one of ${IGNORE_SYNTAX}`);
  });
}

/** Short salted hashes of each part (see the module comment); `digests`: contentDigest by file. */
export function partHashes(config: Record<string, unknown>, sensitive: readonly string[], digests: Readonly<Record<string, string>>, salt: string, plugin?: PluginIdentity): Record<string, string> {
  // SHA-256 of the salt and the part (an HMAC costs twice as much, per part of every step of every
  // build of every run; a prefix salt is enough to keep guesses of a value from being checked).
  const h = (text: string): string => createHash('sha256').update(salt).update('\n').update(text).digest('hex').slice(0, 16);
  const out: Record<string, string> = {};
  const masked = maskSensitive(config, sensitive, salt) as Record<string, unknown>;
  for (const [k, v] of Object.entries(masked)) out[k] = h(canonicalJson(v === undefined ? null : v));
  for (const [f, d] of Object.entries(digests)) out[`file:${f}`] = h(d);
  if (plugin) out[`plugin:${plugin.name}`] = h(pluginText(plugin));
  return out;
}

/** The identity of the plugin serving a component, as one text (fingerprints, part hashes). */
function pluginText(p: PluginIdentity): string {
  return `${p.component}|${p.name}|${p.version}|${p.digest}`;
}

/** A component's identity in its fingerprint: its type (and name), and the plugin serving it. */
function identityOf(type: string, plugin: PluginIdentity | undefined, name?: string): Record<string, string> {
  return { type, ...(name !== undefined ? { name } : {}), ...(plugin ? { plugin: pluginText(plugin) } : {}) };
}

function without(config: Record<string, unknown>, names: ReadonlySet<string>): Record<string, unknown> {
  if (names.size === 0) return config;
  return Object.fromEntries(Object.entries(config).filter(([k]) => !names.has(k)));
}

export function buildInputs(bound: BoundBuild, salt: string, cwd: string, options: BuildInputsOptions = {}): BuildInputs {
  const ignore = parseIgnorePaths(options.ignore ?? []);
  const ignored = (kind: IgnorePath['kind'], targets: readonly string[]): Set<string> =>
    new Set(ignore.filter((i) => i.kind === kind && targets.includes(i.target)).map((i) => i.attribute));
  const locals = options.template ? localExpressions(options.template) : new Map();
  const names = { buildName: bound.packerBuildName, builderType: bound.builderType };
  const p = bound.planned;

  const step = (s: BoundProvisioner | BoundPostProcessor, kind: 'provisioner' | 'post-processor', number: number, body: Parameters<typeof partCauses>[0][number]): PlannedStep => {
    const def: { inputFiles?(c: unknown): string[]; outputFiles?(c: unknown, n: typeof names): string[] } = s.def;
    const files = s.prepared !== undefined ? (def.inputFiles?.(s.prepared) ?? []) : [];
    const outputs = s.prepared !== undefined ? def.outputFiles?.(s.prepared, names) : undefined;
    const skip = ignored(kind, [String(number)]);
    const config = without(s.evaluated.config, skip);
    const sensitive = s.evaluated.sensitiveValues;
    const causes = partCauses([body], locals);
    for (const k of skip) delete causes[k];
    const digests = Object.fromEntries(files.map((f) => [f, contentDigest(resolve(cwd, f))]));
    return {
      type: s.type,
      name: s.name,
      fingerprint: fingerprint({ identity: identityOf(s.type, s.def.plugin, s.name), config, sensitive, files, digests }, salt, cwd),
      inputs: partHashes(config, sensitive, digests, salt, s.def.plugin),
      ...(Object.keys(causes).length > 0 ? { causes } : {}),
      ...(outputs ? { outputs } : {}),
    };
  };

  const builder: { reconnect?: unknown; instanceOutlivesBuild?: boolean; snapshots?: unknown } = bound.source.def;
  const skipSource = ignored('source', [`${bound.builderType}.${p.source.sourceName}`, `${bound.builderType}.${p.source.localName}`]);
  const sourceConfig = without(bound.source.evaluated.config, skipSource);
  const sourceCauses = partCauses([p.sourceDef.body, p.source.extraBody], locals);
  for (const k of skipSource) delete sourceCauses[k];
  let flat = 0;
  return {
    key: bound.name,
    name: bound.name,
    builderType: bound.builderType,
    ...(bound.source.def.plugin ? { builderPlugin: bound.source.def.plugin.name } : {}),
    sourceLabel: `source.${bound.builderType}.${p.source.localName}`,
    sourceFingerprint: fingerprint({ identity: identityOf(bound.builderType, bound.source.def.plugin), config: sourceConfig, sensitive: bound.source.evaluated.sensitiveValues }, salt, cwd),
    sourceInputs: partHashes(sourceConfig, bound.source.evaluated.sensitiveValues, {}, salt, bound.source.def.plugin),
    ...(Object.keys(sourceCauses).length > 0 ? { sourceCauses } : {}),
    provisioners: bound.provisioners.map((s, i) => step(s, 'provisioner', i + 1, p.provisioners[i]?.body)),
    postProcessorChains: bound.postProcessors.map((chain, c) => chain.map((s, i) => step(s, 'post-processor', ++flat, p.postProcessors[c]?.[i]?.body))),
    canReconnect: typeof builder.reconnect === 'function',
    instanceOutlivesBuild: builder.instanceOutlivesBuild === true,
    // A builder offers snapshots through its `snapshots` capability (docker).
    canSnapshot: typeof builder.snapshots === 'object' && builder.snapshots !== null,
  };
}
