/**
 * Reads a legacy JSON template (Packer 1.6.6's packer-plugin-sdk/template.Parse) into
 * `LegacyTemplate`, keeping the source range of every value for diagnostics.
 *
 * Contract: never throws; returns the checks Packer makes while parsing as error diagnostics,
 * with Packer's wording (`Unknown root level key in template: 'x'`, `builder 2: missing 'type'`,
 * `post-processor 1.2: sequence not allowed to be nested in a sequence`, …) and the range of the
 * offending JSON value. Root keys starting with `_` are comments, as in Packer.
 */
import { readFileSync } from 'node:fs';
import { errorDiag, type Diagnostic, type Range } from '../../diagnostics.js';
import { systemErrorDetail } from '../../errors.js';
import type { File, JsonValue } from '../../hcl/ast.js';
import { parseJsonConfig } from '../../hcl/json.js';

export type JsonObject = JsonValue & { kind: 'object' };

export interface LegacyVariable {
  name: string;
  /** Undefined when the default is `null`: the variable is required. */
  default?: string;
  range: Range;
}

export interface LegacyBuilder {
  type: string;
  /** The `name`, or the type when unnamed (as Packer names it). */
  name: string;
  /** True when the template gave a name. */
  named: boolean;
  /** The builder's configuration: its properties other than `type` and `name`. */
  config: JsonObject;
  range: Range;
}

export interface LegacyProvisioner {
  type: string;
  only: string[];
  except: string[];
  /** builder name → fields that replace the provisioner's for that builder. */
  override: Map<string, JsonObject>;
  pauseBefore?: string;
  maxRetries?: string;
  timeout?: string;
  config: JsonObject;
  range: Range;
}

export interface LegacyPostProcessor {
  type: string;
  /** The `name`, or the type when unnamed. */
  name: string;
  only: string[];
  except: string[];
  keepInputArtifact?: boolean;
  config: JsonObject;
  range: Range;
}

export interface LegacyTemplate {
  file: File;
  description?: string;
  minVersion?: string;
  variables: LegacyVariable[];
  sensitiveVariables: string[];
  builders: LegacyBuilder[];
  provisioners: LegacyProvisioner[];
  errorCleanupProvisioner?: LegacyProvisioner;
  postProcessors: LegacyPostProcessor[][];
}

const ROOT_KEYS = new Set(['min_packer_version', 'description', 'variables', 'sensitive-variables', 'builders', 'provisioners', 'post-processors', 'error-cleanup-provisioner']);
const PROVISIONER_META = new Set(['type', 'only', 'except', 'override', 'pause_before', 'max_retries', 'timeout']);
const POST_PROCESSOR_META = new Set(['type', 'name', 'only', 'except', 'keep_input_artifact']);

/** The top-level object of a legacy template, if `root` looks like one (has `builders`). */
export function isLegacyRoot(root: JsonValue): boolean {
  return root.kind === 'object' && root.props.some((p) => p.name === 'builders');
}

function prop(o: JsonObject, name: string): JsonValue | undefined {
  return o.props.find((p) => p.name === name)?.value;
}

function without(o: JsonObject, keys: ReadonlySet<string>): JsonObject {
  return { ...o, props: o.props.filter((p) => !keys.has(p.name)) };
}

/** Go's %v-ish text of a scalar, as mapstructure's weak decoding gives it. */
function scalarText(v: JsonValue): string | undefined {
  switch (v.kind) {
    case 'string':
      return v.value;
    case 'number':
      return v.text;
    case 'bool':
      return v.value ? '1' : '0';
    default:
      return undefined;
  }
}

export function parseLegacyTemplate(source: string, filename: string): { template?: LegacyTemplate; diagnostics: Diagnostic[] } {
  const parsed = parseJsonConfig(source, filename);
  if (parsed.diagnostics.length > 0) return { diagnostics: parsed.diagnostics };
  const root = parsed.file.body.kind === 'json' ? parsed.file.body.value : undefined;
  if (!root || root.kind !== 'object') {
    return { diagnostics: [errorDiag('Failed to parse template', 'The root of a legacy JSON template must be an object.', root?.range)] };
  }
  const diags: Diagnostic[] = [];
  const err = (detail: string, range: Range): void => void diags.push(errorDiag('Failed to parse template', detail, range));
  const t: LegacyTemplate = { file: parsed.file, variables: [], sensitiveVariables: [], builders: [], provisioners: [], postProcessors: [] };

  const seen = new Set<string>();
  for (const p of [...root.props].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (seen.has(p.name)) err(`Duplicate root level key in template: '${p.name}'`, p.nameRange);
    seen.add(p.name);
    if (ROOT_KEYS.has(p.name)) continue;
    if (p.name.startsWith('_')) {
      if (p.value.kind !== 'string') err(`Failed to cast root level comment value in comment "${p.name}" to string.`, p.value.range);
      continue;
    }
    err(`Unknown root level key in template: '${p.name}'`, p.nameRange);
  }

  const stringProp = (o: JsonObject, name: string, what: string): string | undefined => {
    const v = prop(o, name);
    if (v === undefined || v.kind === 'null') return undefined;
    if (v.kind !== 'string') {
      err(`${what}: '${name}' expected type 'string', got unconvertible type '${goKind(v)}'`, v.range);
      return undefined;
    }
    return v.value;
  };
  const stringList = (o: JsonObject, name: string, what: string): string[] => {
    const v = prop(o, name);
    if (v === undefined || v.kind === 'null') return [];
    if (v.kind !== 'array' || v.items.some((i) => i.kind !== 'string')) {
      err(`${what}: '${name}' must be a list of strings`, v.range);
      return [];
    }
    return v.items.map((i) => (i.kind === 'string' ? i.value : ''));
  };

  t.description = stringProp(root, 'description', 'description');
  t.minVersion = stringProp(root, 'min_packer_version', 'min_packer_version');

  const vars = prop(root, 'variables');
  if (vars && vars.kind === 'object') {
    for (const p of vars.props) {
      if (p.value.kind === 'null') t.variables.push({ name: p.name, range: p.nameRange });
      else {
        if (p.value.kind === 'string') t.variables.push({ name: p.name, default: p.value.value, range: p.nameRange });
        else {
          const shown = p.value.kind === 'number' ? p.value.text : p.value.kind === 'bool' ? String(p.value.value) : '';
          err(`variable ${p.name}: '' expected type 'string', got unconvertible type '${goKind(p.value)}', value: '${shown}'`, p.value.range);
        }
      }
    }
  } else if (vars && vars.kind !== 'null') err("'variables' expected a map, got '" + goKind(vars) + "'", vars.range);
  t.sensitiveVariables = stringList(root, 'sensitive-variables', 'sensitive-variables');

  const builders = prop(root, 'builders');
  if (builders && builders.kind === 'array') {
    const names = new Set<string>();
    builders.items.forEach((b, i) => {
      if (b.kind !== 'object') return err(`builder ${i + 1}: expected a map, got '${goKind(b)}'`, b.range);
      const type = stringProp(b, 'type', `builder ${i + 1}`);
      if (!type) return err(`builder ${i + 1}: missing 'type'`, b.range);
      const given = stringProp(b, 'name', `builder ${i + 1}`);
      const name = given || type;
      if (names.has(name)) return err(`builder ${i + 1}: builder with name '${name}' already exists`, b.range);
      names.add(name);
      t.builders.push({ type, name, named: !!given, config: without(b, new Set(['type', 'name'])), range: b.range });
    });
  } else if (builders && builders.kind !== 'null') err(`'builders': source data must be an array or slice, got ${goKind(builders)}`, builders.range);

  const provisioner = (v: JsonValue, what: string): LegacyProvisioner | undefined => {
    if (v.kind !== 'object') {
      err(`${what}: Error decoding provisioner: '' expected a map, got '${goKind(v)}'`, v.range);
      return undefined;
    }
    const type = stringProp(v, 'type', what);
    if (!type) {
      err(`${what}: Provisioner missing 'type'`, v.range);
      return undefined;
    }
    const override = new Map<string, JsonObject>();
    const ov = prop(v, 'override');
    if (ov && ov.kind === 'object') {
      for (const p of ov.props) {
        if (p.value.kind === 'object') override.set(p.name, p.value);
        else err(`${what}: override for '${p.name}' must be an object`, p.value.range);
      }
    } else if (ov && ov.kind !== 'null') err(`${what}: 'override' must be an object`, ov.range);
    const retries = prop(v, 'max_retries');
    return {
      type,
      only: stringList(v, 'only', what),
      except: stringList(v, 'except', what),
      override,
      pauseBefore: stringProp(v, 'pause_before', what),
      maxRetries: retries ? scalarText(retries) : undefined,
      timeout: stringProp(v, 'timeout', what),
      config: without(v, PROVISIONER_META),
      range: v.range,
    };
  };
  const provs = prop(root, 'provisioners');
  if (provs && provs.kind === 'array') {
    provs.items.forEach((v, i) => {
      const p = provisioner(v, `provisioner ${i + 1}`);
      if (p) t.provisioners.push(p);
    });
  } else if (provs && provs.kind !== 'null') err(`'provisioners': source data must be an array or slice, got ${goKind(provs)}`, provs.range);
  const cleanup = prop(root, 'error-cleanup-provisioner');
  if (cleanup && cleanup.kind !== 'null') t.errorCleanupProvisioner = provisioner(cleanup, 'On Error Cleanup Provisioner error');

  const pps = prop(root, 'post-processors');
  if (pps && pps.kind === 'array') {
    pps.items.forEach((v, i) => {
      const entries: JsonValue[] = [];
      if (v.kind === 'string' || v.kind === 'object') entries.push(v);
      else if (v.kind === 'array') {
        v.items.forEach((inner, j) => {
          if (inner.kind === 'string' || inner.kind === 'object') entries.push(inner);
          else if (inner.kind === 'array') err(`post-processor ${i + 1}.${j + 1}: sequence not allowed to be nested in a sequence`, inner.range);
          else err(`post-processor ${i + 1}.${j + 1}: unknown format`, inner.range);
        });
      } else return err(`post-processor ${i + 1}: bad format`, v.range);
      const chain: LegacyPostProcessor[] = [];
      entries.forEach((e, j) => {
        const what = `post-processor ${i + 1}.${j + 1}`;
        if (e.kind === 'string') {
          chain.push({ type: e.value, name: e.value, only: [], except: [], config: { kind: 'object', props: [], range: e.range }, range: e.range });
          return;
        }
        if (e.kind !== 'object') return;
        const type = stringProp(e, 'type', what);
        if (!type) return err(`${what}: type is required`, e.range);
        const keep = prop(e, 'keep_input_artifact');
        if (keep && keep.kind !== 'bool' && keep.kind !== 'null') err(`${what}: 'keep_input_artifact' expected type 'bool', got unconvertible type '${goKind(keep)}'`, keep.range);
        chain.push({
          type,
          name: stringProp(e, 'name', what) || type,
          only: stringList(e, 'only', what),
          except: stringList(e, 'except', what),
          keepInputArtifact: keep?.kind === 'bool' ? keep.value : undefined,
          config: without(e, POST_PROCESSOR_META),
          range: e.range,
        });
      });
      t.postProcessors.push(chain);
    });
  } else if (pps && pps.kind !== 'null') err(`'post-processors': source data must be an array or slice, got ${goKind(pps)}`, pps.range);

  return { template: diags.length > 0 ? undefined : t, diagnostics: diags };
}

/** Go's multierror text (hashicorp/go-multierror's list format). */
export function goMultiError(messages: readonly string[]): string {
  return `${messages.length} error${messages.length === 1 ? '' : 's'} occurred:\n${messages.map((m) => `\t* ${m}`).join('\n')}\n\n`;
}

/** Reads and parses the template file at `fullPath`; its text goes into `texts` under
 * `displayName` (the name diagnostics use). A file that cannot be read is one diagnostic. */
export function readLegacyTemplateFile(fullPath: string, displayName: string, texts: Map<string, string>): { template?: LegacyTemplate; diagnostics: Diagnostic[] } {
  let text: string;
  try {
    text = readFileSync(fullPath, 'utf8');
  } catch (e) {
    return { diagnostics: [errorDiag('Failed to read file', `The file "${displayName}" could not be read: ${systemErrorDetail(e)}.`)] };
  }
  texts.set(displayName, text);
  return parseLegacyTemplate(text, displayName);
}

/** Go's name of the kind of a decoded JSON value, for mapstructure-like messages. */
function goKind(v: JsonValue): string {
  switch (v.kind) {
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'bool':
      return 'bool';
    case 'null':
      return 'invalid';
    case 'array':
      return 'slice';
    case 'object':
      return 'map';
  }
}
