/**
 * Evaluates a component's configuration body (a source, provisioner or post-processor) for one
 * build into plain JS data, checked against the component's `ConfigSpec` when one is given:
 * an argument the spec does not have is HCL's "Unsupported argument"; a value of the wrong type
 * is "Incorrect attribute value type"; a missing required one "Missing required argument".
 *
 * The body may come in layers: a source's own body and the fields an inner `source` block of the
 * build adds (an argument set in both is a "Duplicate argument", as with HCL's merged bodies),
 * and a provisioner's `override` for the current source, which replaces fields.
 *
 * Values known only while building (`build.Host`, …) come from `BuildContextValues`; without
 * them they are unknown and appear as `undefined` in the result.
 */
import { errorDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { Attribute, Block, Body } from '../hcl/ast.js';
import { bodyContent, bodyJustAttributes, missingItemRange, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { convert } from '../values/convert.js';
import { T, type Type, type Value } from '../values/value.js';
import type { ConfigSpec } from '../sdk/component.js';
import { componentContext, SECRET_BUILD_KEYS } from './context.js';
import { expandDynamicBlocks } from './dynamic.js';
import type { BuildContextValues, EvaluatedConfig, PlannedBuild, PostProcessorDef, ProvisionerDef, Template } from './model.js';
import { placeString } from './ranges.js';

const SPEC_TYPES: Record<ConfigSpec['attributes'][string]['type'], Type> = {
  string: T.string,
  number: T.number,
  bool: T.bool,
  'list(string)': T.list(T.string),
  'map(string)': T.map(T.string),
  any: T.dynamic,
};

/**
 * Evaluates `body` (or layers of bodies, later ones adding fields) for the build described by
 * `values`. `override` (an object value) replaces fields after evaluation.
 */
export function evaluateConfig(
  template: Template,
  body: Body | readonly Body[],
  values: BuildContextValues,
  spec?: ConfigSpec,
  override?: Value,
): EvaluatedConfig {
  const ctx = componentContext(template, values);
  const diags: Diagnostic[] = [];
  const layers = (Array.isArray(body) ? body : [body]) as readonly Body[];
  const expanded = layers.map((b) => {
    const e = expandDynamicBlocks(b, ctx);
    diags.push(...e.diagnostics);
    return e.body;
  });
  const sensitive = new Set<string>();
  const config = decodeLayers(expanded, spec, ctx, diags, sensitive, override);
  // As Packer's secret filter: every sensitive variable's and local's strings, and the secret
  // communicator values, are masked wherever they appear, not only as whole config values.
  for (const v of template.variables.values()) if (v.sensitive && v.value) collectSensitive(v.value, true, sensitive);
  for (const l of template.locals.values()) if (l.sensitive && l.value) collectSensitive(l.value, true, sensitive);
  for (const d of template.dataSources) if (d.value?.containsSensitive()) collectSensitive(d.value, false, sensitive);
  for (const key of SECRET_BUILD_KEYS) {
    const secret = values.build?.[key];
    if (secret) sensitive.add(secret);
  }
  return { config, sensitiveValues: [...sensitive], diagnostics: diags };
}

/**
 * Evaluates a body outside any build in `ctx` (a data block's, in the locals context), checked
 * against `spec` as `evaluateConfig` checks component bodies.
 */
export function evaluateBody(body: Body, ctx: EvalContext, spec?: ConfigSpec): EvaluatedConfig {
  const diags: Diagnostic[] = [];
  const e = expandDynamicBlocks(body, ctx);
  diags.push(...e.diagnostics);
  const sensitive = new Set<string>();
  const config = decodeLayers([e.body], spec, ctx, diags, sensitive);
  return { config, sensitiveValues: [...sensitive], diagnostics: diags };
}

/** The configuration of the build's source: the source body plus the build's inner-source fields. */
export function evaluateSourceConfig(template: Template, planned: PlannedBuild, values: BuildContextValues, spec?: ConfigSpec): EvaluatedConfig {
  const layers = planned.source.extraBody ? [planned.sourceDef.body, planned.source.extraBody] : [planned.sourceDef.body];
  return evaluateConfig(template, layers, values, spec);
}

/** The configuration of a provisioner or post-processor, with its `override` for this source. */
export function evaluateStepConfig(
  template: Template,
  planned: PlannedBuild,
  step: ProvisionerDef | PostProcessorDef,
  values: BuildContextValues,
  spec?: ConfigSpec,
): EvaluatedConfig {
  const override = step.override?.get(planned.source.localName);
  return evaluateConfig(template, step.body, values, spec, override);
}

function schemaOf(spec: ConfigSpec): BodySchema {
  return {
    attributes: Object.keys(spec.attributes).map((name) => ({ name })),
    blocks: Object.keys(spec.blocks ?? {}).map((type) => ({ type, labelNames: [] })),
  };
}

function decodeLayers(
  layers: readonly Body[],
  spec: ConfigSpec | undefined,
  ctx: EvalContext,
  diags: Diagnostic[],
  sensitive: Set<string>,
  override?: Value,
): Record<string, unknown> {
  const attrs = new Map<string, Attribute>();
  const blocks: Block[] = [];
  for (const layer of layers) {
    let layerAttrs: Iterable<Attribute>;
    if (spec) {
      const { content, diagnostics } = bodyContent(layer, schemaOf(spec));
      diags.push(...diagnostics);
      layerAttrs = content.attributes.values();
      blocks.push(...content.blocks);
    } else if (layer.kind === 'native') {
      layerAttrs = layer.attributes;
      blocks.push(...layer.blocks);
    } else {
      const { attributes, diagnostics } = bodyJustAttributes(layer);
      diags.push(...diagnostics);
      layerAttrs = attributes.values();
    }
    for (const a of layerAttrs) {
      const prev = attrs.get(a.name);
      if (prev) {
        diags.push(errorDiag('Duplicate argument', `Argument "${a.name}" was already set at ${placeString(prev.nameRange)}. Each argument may be set only once.`, a.nameRange));
        continue;
      }
      attrs.set(a.name, a);
    }
  }

  const out: Record<string, unknown> = {};
  const overrideFields = override && override.isMapping && !override.unknown ? override.entries() : new Map<string, Value>();
  for (const [name, a] of attrs) {
    if (overrideFields.has(name)) continue;
    const r = evaluate(a.expr, ctx);
    diags.push(...r.diagnostics);
    if (r.diagnostics.some((d) => d.severity === 'error')) continue;
    const v = typed(name, r.value, spec, a.expr.range, diags);
    if (v) out[name] = plain(v, sensitive);
  }
  for (const [name, value] of overrideFields) {
    if (spec && !(name in spec.attributes)) {
      diags.push(errorDiag('Unsupported argument', `An argument named "${name}" is not expected here (in the override for this source).`, layers[0]?.range));
      continue;
    }
    const v = typed(name, value, spec, layers[0]!.range, diags);
    if (v) out[name] = plain(v, sensitive);
  }
  if (spec) {
    for (const [name, a] of Object.entries(spec.attributes)) {
      if (a.required && !attrs.has(name) && !overrideFields.has(name)) {
        diags.push(errorDiag('Missing required argument', `The argument "${name}" is required, but no definition was found.`, missingItemRange(layers[0]!)));
      }
    }
  }
  const byType = new Map<string, Block[]>();
  for (const b of blocks) byType.set(b.type, [...(byType.get(b.type) ?? []), b]);
  for (const [type, list] of byType) {
    const blockSpec = spec?.blocks?.[type];
    const decoded = list.map((b) => decodeLayers([b.body], blockSpec?.spec, ctx, diags, sensitive));
    if (blockSpec?.nesting === 'single') {
      if (list.length > 1) diags.push(errorDiag(`Duplicate ${type} block`, `Only one "${type}" block is allowed. Another was defined at ${placeString(list[0]!.typeRange)}.`, list[1]!.typeRange));
      out[type] = decoded[0];
    } else {
      out[type] = decoded;
    }
  }
  return out;
}

function typed(name: string, value: Value, spec: ConfigSpec | undefined, subject: Range | undefined, diags: Diagnostic[]): Value | undefined {
  const a = spec?.attributes[name];
  if (!a) return value;
  const c = convert(value, SPEC_TYPES[a.type]);
  if ('message' in c) {
    diags.push(errorDiag('Incorrect attribute value type', `Inappropriate value for attribute "${name}": ${c.error}.`, subject));
    return undefined;
  }
  return c.value;
}

/**
 * What an unknown string becomes in the plain configuration (Packer's hcl2shim does the same with
 * its own marker), so that a component's `prepare` sees a present, non-empty value for e.g.
 * `"${build.Host}"` while validating. Unknown values of other types become `undefined`.
 */
export const UNKNOWN_STRING = '<unknown>';

/** Plain JS data of a value; every sensitive string inside is recorded for masking. */
function plain(v: Value, sensitive: Set<string>): unknown {
  collectSensitive(v, false, sensitive);
  return toPlain(v);
}

function toPlain(v: Value): unknown {
  if (v.unknown) return v.type.kind === 'string' || v.type.kind === 'dynamic' ? UNKNOWN_STRING : undefined;
  if (Array.isArray(v.raw)) return (v.raw as Value[]).map(toPlain);
  if (v.raw instanceof Map) return Object.fromEntries([...(v.raw as Map<string, Value>)].map(([k, e]) => [k, toPlain(e)]));
  return v.toJS();
}

function collectSensitive(v: Value, inherited: boolean, out: Set<string>): void {
  const marked = inherited || v.sensitive;
  if (v.unknown || v.isNull) return;
  if (Array.isArray(v.raw)) for (const e of v.raw as Value[]) collectSensitive(e, marked, out);
  else if (v.raw instanceof Map) for (const e of (v.raw as Map<string, Value>).values()) collectSensitive(e, marked, out);
  else if (marked) {
    const js = v.toJS();
    if (js !== '' && js !== null && js !== undefined) out.add(String(js));
  }
}
