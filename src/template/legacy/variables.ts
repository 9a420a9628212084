/**
 * The values of a legacy template's user variables, as Packer 1.6.6's legacy core computes them:
 *
 * - every variable is a string; a `null` default makes it required;
 * - `-var name=value` and `-var-file=FILE` (a flat JSON object of strings) apply in command-line
 *   order, later ones winning; names the template does not declare are accepted silently (as in
 *   Packer); legacy templates do not read `PKR_VAR_*`;
 * - defaults of variables not set on the command line are rendered with the legacy engine with
 *   `env` allowed and `user` referring to other variables: repeatedly, so a default may use a
 *   variable declared after it; a reference that never resolves is Packer's error;
 * - a required variable left unset is `required variable not set: NAME`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorDiag, type Diagnostic } from '../../diagnostics.js';
import { parseJsonConfig } from '../../hcl/json.js';
import type { VariableInput } from '../loader.js';
import { legacyFunctions, type LegacyFunctionContext } from './functions.js';
import { renderGo, joinParts } from './go-template.js';
import type { LegacyTemplate } from './parse.js';

export interface LegacyValues {
  values: Map<string, string>;
  /** Where each value came from: 'default', 'cli' or the var-file path. */
  sources: Map<string, string>;
  diagnostics: Diagnostic[];
  /** The text of var files read, by name, for diagnostics. */
  texts: Map<string, string>;
}

export interface LegacyInputs {
  /** The values -var and -var-file give, later ones winning. */
  given: Map<string, string>;
  /** 'cli' or the var-file path, by name. */
  sources: Map<string, string>;
  diagnostics: Diagnostic[];
  texts: Map<string, string>;
}

/** Reads `-var` and `-var-file` inputs in command-line order (what Packer's Meta.Core reads). */
export function readLegacyInputs(inputs: readonly VariableInput[], cwd: string): LegacyInputs {
  const diags: Diagnostic[] = [];
  const given = new Map<string, string>();
  const sources = new Map<string, string>();
  const texts = new Map<string, string>();
  for (const input of inputs) {
    if (input.kind === 'var') {
      given.set(input.name, input.value);
      sources.set(input.name, 'cli');
      continue;
    }
    let text: string;
    try {
      text = readFileSync(resolve(cwd, input.path), 'utf8');
    } catch (e) {
      diags.push(errorDiag(`Error reading variables in '${input.path}'`, (e as Error).message));
      continue;
    }
    texts.set(input.path, text);
    const parsed = parseJsonConfig(text, input.path);
    diags.push(...parsed.diagnostics);
    const root = parsed.file.body.kind === 'json' ? parsed.file.body.value : undefined;
    if (parsed.diagnostics.length > 0 || !root) continue;
    if (root.kind !== 'object') {
      diags.push(errorDiag(`Error reading variables in '${input.path}'`, 'json: cannot unmarshal array into Go value of type map[string]string', root.range));
      continue;
    }
    for (const p of root.props) {
      if (p.value.kind !== 'string') {
        const kind = p.value.kind === 'null' ? undefined : p.value.kind;
        if (kind) {
          diags.push(errorDiag(`Error reading variables in '${input.path}'`, `json: cannot unmarshal ${kind} into Go value of type string`, p.value.range));
          continue;
        }
        continue;
      }
      given.set(p.name, p.value.value);
      sources.set(p.name, input.path);
    }
  }
  return { given, sources, diagnostics: diags, texts };
}

export function legacyVariableValues(
  t: LegacyTemplate,
  inputs: readonly VariableInput[],
  base: Omit<LegacyFunctionContext, 'user' | 'enableEnv'>,
): LegacyValues {
  const { given, sources, diagnostics: diags, texts } = readLegacyInputs(inputs, base.cwd);
  const values = new Map<string, string>(given);
  const pending = t.variables.filter((v) => !given.has(v.name));
  const unset: string[] = [];
  for (const v of pending) {
    if (v.default === undefined) unset.push(v.name);
    else if (!v.default.includes('{{')) {
      values.set(v.name, v.default);
      sources.set(v.name, 'default');
    }
  }
  // Defaults with interpolations: rendered until no more resolve (Packer's renderVarsRecursively).
  let todo = pending.filter((v) => v.default !== undefined && v.default.includes('{{'));
  let lastErrors = new Map<string, string>();
  while (todo.length > 0) {
    const next: typeof todo = [];
    lastErrors = new Map();
    for (const v of todo) {
      const fns = legacyFunctions({ ...base, user: values, enableEnv: true });
      const r = renderGo(v.default!, 'root', { functions: fns, keepFields: true });
      if (r.error) {
        next.push(v);
        lastErrors.set(v.name, r.error);
        continue;
      }
      values.set(v.name, joinParts(r.parts, (raw) => `{{ ${raw} }}`));
      sources.set(v.name, 'default');
    }
    if (next.length === todo.length) break;
    todo = next;
  }
  for (const v of todo) {
    diags.push(errorDiag(`Failed to render variable "${v.name}"`, `error interpolating default value for '${v.name}': ${lastErrors.get(v.name) ?? ''}`, v.range));
  }
  if (unset.length > 0) {
    const byName = new Map(t.variables.map((v) => [v.name, v]));
    for (const name of unset) diags.push(errorDiag(`required variable not set: ${name}`, undefined, byName.get(name)?.range));
  }
  return { values, sources, diagnostics: diags, texts };
}
