/**
 * `builder fix` as Packer's `fix` command: decodes the legacy JSON template, runs every fixer of
 * fixers.ts in order, prints the result as Packer does (Go's encoding/json: keys sorted, two-space
 * indent, `&` as `\u0026`, control characters as `\u00XX`, U+2028/2029 escaped, numbers as Go
 * prints a float64; followed by an empty line), then, unless `-validate=false`, parses and
 * validates the fixed template as Packer's template.Parse and Template.Validate do (at least one
 * builder; provisioners' and post-processors' `only`/`except`, provisioners' `override` naming
 * builders that exist), reporting with Packer's texts and exit status 1.
 */
import { goMarshalIndent } from '../../values/go-json.js';
import { FIXERS, FixError, type Json, type JsonMap } from './fixers.js';
import { goMultiError, parseLegacyTemplate, type LegacyTemplate } from './parse.js';

export interface FixResult {
  stdout: string;
  stderr: string;
  code: number;
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** `v` with every object's keys in Go's order for maps (sorted by bytes). */
function sortedKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort(byBytes).map((k) => [k, sortedKeys(v[k]!)]));
}

/** What `packer fix` prints for `v`: Go's json.Encoder + json.Indent(…, "", "  "), then
 * `\u003c` and `\u003e` turned back into `<` and `>` (Packer's own replacement, on the text). */
export function goIndentedJson(v: Json): string {
  return goMarshalIndent(sortedKeys(v)).replaceAll('\\u003c', '<').replaceAll('\\u003e', '>');
}

/** Packer's OnlyExcept.Validate for a step of `t`. */
function onlyExceptErrors(step: { only: readonly string[]; except: readonly string[] }, builders: ReadonlySet<string>): string[] {
  if (step.only.length > 0 && step.except.length > 0) return ["only one of 'only' or 'except' may be specified"];
  return [
    ...step.only.filter((n) => !builders.has(n)).map((n) => `'only' specified builder '${n}' not found`),
    ...step.except.filter((n) => !builders.has(n)).map((n) => `'except' specified builder '${n}' not found`),
  ];
}

/** Packer's template.Validate. */
export function legacyTemplateErrors(t: LegacyTemplate): string[] {
  const errors: string[] = [];
  if (t.builders.length === 0) errors.push('at least one builder must be defined');
  const names = new Set(t.builders.map((b) => b.name));
  t.provisioners.forEach((p, i) => {
    errors.push(...onlyExceptErrors(p, names).map((e) => `provisioner ${i + 1}: ${e}`));
    for (const name of [...p.override.keys()].sort()) if (!names.has(name)) errors.push(`provisioner ${i + 1}: override '${name}' doesn't exist`);
  });
  t.postProcessors.forEach((chain, i) =>
    chain.forEach((p, j) => errors.push(...onlyExceptErrors(p, names).map((e) => `post-processor ${i + 1}.${j + 1}: ${e}`))),
  );
  return errors;
}

const AFTER = '\n\nThis is usually caused by an error in the input template.\nPlease fix the error and try again.\n';

/** Fixes the template `text`; `validate` as Packer's -validate. */
export function fixLegacyTemplate(text: string, validate: boolean): FixResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    return { stdout: '', stderr: `Error parsing template: ${(e as Error).message}\n`, code: 1 };
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    const kind = Array.isArray(input) ? 'array' : input === null ? 'null' : typeof input === 'string' ? 'string' : typeof input === 'number' ? 'number' : 'bool';
    if (input !== null) return { stdout: '', stderr: `Error parsing template: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}\n`, code: 1 };
  }
  let fixed: JsonMap = (input ?? {}) as JsonMap;
  try {
    for (const f of FIXERS) fixed = f.fix(fixed);
  } catch (e) {
    if (e instanceof FixError) return { stdout: '', stderr: `Error fixing: ${e.message}\n`, code: 1 };
    throw e;
  }
  const result = `${goIndentedJson(fixed)}\n`;
  const stdout = `${result}\n`;
  if (!validate) return { stdout, stderr: '', code: 0 };
  const parsed = parseLegacyTemplate(result, 'fixed');
  if (!parsed.template) {
    const errors = parsed.diagnostics.map((d) => d.detail ?? d.summary);
    return { stdout, stderr: `Error! Fixed template fails to parse: ${goMultiError(errors)}${AFTER}`, code: 1 };
  }
  const errors = legacyTemplateErrors(parsed.template);
  if (errors.length > 0) return { stdout, stderr: `Error! Fixed template failed to validate: ${goMultiError(errors)}${AFTER}`, code: 1 };
  return { stdout, stderr: '', code: 0 };
}

/** The fixers' names and synopses, as Packer's help lists them. */
export function fixersHelp(): string {
  return FIXERS.map((f) => `  ${f.name.padEnd(27)}${f.synopsis}`).join('\n');
}
