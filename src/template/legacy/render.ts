/**
 * Renders the strings of a legacy component configuration (a JSON object) with the legacy
 * template engine, the way a Packer 1.6.6 plugin's `config.Decode` interpolates its fields, and
 * turns the result into an HCL JSON body that the rest of builder evaluates like a `.pkr.json`
 * body:
 *
 * - plain text is escaped for HCL (`${` → `$${`, `%{` → `%%{`), so it stays literal;
 * - `{{build \`Host\`}}` becomes the HCL reference `${build.Host}`, known when the build runs;
 * - `{{ .Field }}` actions are kept as written: the component renders them itself later
 *   (`execute_command`'s `{{.Vars}}`, a checksum `output`'s `{{.BuildName}}`, …).
 *
 * A failing interpolation is reported as Packer reports it while preparing the build
 * (`Error decoding config: invalid 'inline': template: root:1: function "x" not defined in: …`),
 * with the range of the JSON string.
 */
import { errorDiag, type Diagnostic } from '../../diagnostics.js';
import type { Body, JsonValue } from '../../hcl/ast.js';
import { joinParts, renderGo, type GoFunction } from './go-template.js';

/** Escapes literal text for an HCL template. */
export function escapeHcl(text: string): string {
  return text.replace(/([$%])\{/g, '$1$1{');
}

export interface RenderResult {
  /** The rendered text (raw parts as HCL `${…}` interpolations), or undefined on error. */
  hcl?: string;
  /** The rendered text with raw parts written as `{{build `X`}}` placeholders (plain text). */
  text?: string;
  error?: { message: string; phase: 'parse' | 'execute' };
}

/** Renders one string as Packer's interpolate.Render (template name "root"). */
export function renderLegacyString(text: string, functions: ReadonlyMap<string, GoFunction>): RenderResult {
  if (!text.includes('{{')) return { hcl: escapeHcl(text), text };
  const r = renderGo(text, 'root', { functions, keepFields: true });
  if (r.error) return { error: { message: r.error, phase: r.phase ?? 'execute' } };
  const hcl = r.parts.map((p) => (p.kind === 'text' ? escapeHcl(p.text) : `\${${p.raw}}`)).join('');
  return { hcl, text: joinParts(r.parts, (raw) => `{{ ${raw.replace(/^build\.(.*)$/, 'build `$1`')} }}`) };
}

/** Wraps Packer's prepare error for the field `key` of `buildName`'s component. */
function prepareError(buildName: string, key: string, text: string, e: NonNullable<RenderResult['error']>, value: JsonValue): Diagnostic {
  const verb = e.phase === 'parse' ? 'invalid' : 'render';
  return errorDiag(`Failed to prepare build: "${buildName}"`, `Error decoding config: ${verb} '${key}': ${e.message} in:\n\n${text}`, value.range);
}

/** Renders every string of `value` (object keys are kept as written). */
export function renderJsonValue(value: JsonValue, functions: ReadonlyMap<string, GoFunction>, buildName: string, key: string, diags: Diagnostic[]): JsonValue {
  switch (value.kind) {
    case 'string': {
      const r = renderLegacyString(value.value, functions);
      if (r.error) {
        diags.push(prepareError(buildName, key, value.value, r.error, value));
        return value;
      }
      return { ...value, value: r.hcl! };
    }
    case 'array':
      return { ...value, items: value.items.map((i) => renderJsonValue(i, functions, buildName, key, diags)) };
    case 'object':
      return {
        ...value,
        props: value.props.map((p) => ({ ...p, value: renderJsonValue(p.value, functions, buildName, key ? `${key}.${p.name}` : p.name, diags) })),
      };
    default:
      return value;
  }
}

/** An HCL JSON body holding `value` (an object). */
export function jsonBody(value: JsonValue): Body {
  return { kind: 'json', value, range: value.range };
}
