/**
 * The meta-arguments of provisioner and post-processor blocks, decoded and checked the way Packer
 * does it, and removed from the body that is handed to the component:
 *
 * - both: `name` (string), `only` / `except` (lists of `<type>.<name>` source names; not both);
 * - provisioners: `pause_before`, `timeout` (Go durations such as "30s" or "1m30s"),
 *   `max_retries` (number), `override` (object: source name → fields);
 * - post-processors: `keep_input_artifact` (bool).
 */
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import type { Attribute, Body } from '../hcl/ast.js';
import { bodyPartialContent, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { parseDuration } from '../cli/flags.js';
import { convert } from '../values/convert.js';
import { T, friendlyTypeName, type Type, type Value } from '../values/value.js';
import type { StepMeta } from './model.js';

const provisionerMeta: BodySchema = {
  attributes: ['name', 'only', 'except', 'pause_before', 'max_retries', 'timeout', 'override'].map((name) => ({ name })),
  blocks: [],
};

const postProcessorMeta: BodySchema = {
  attributes: ['name', 'only', 'except', 'keep_input_artifact'].map((name) => ({ name })),
  blocks: [],
};

/** Evaluates a meta-argument and converts it; reports HCL's "Unsuitable value type" on mismatch. */
function metaValue(attr: Attribute, type: Type, ctx: EvalContext, diags: Diagnostic[]): Value | undefined {
  const r = evaluate(attr.expr, ctx);
  diags.push(...r.diagnostics);
  if (r.diagnostics.some((d) => d.severity === 'error')) return undefined;
  if (r.value.isNull) return undefined;
  const c = convert(r.value, type);
  if ('message' in c) {
    diags.push(errorDiag('Unsuitable value type', `Unsuitable value: ${c.error}`, attr.expr.range));
    return undefined;
  }
  if (!c.value.isWhollyKnown) {
    diags.push(errorDiag('Unknown value', `The value of "${attr.name}" must be known before the build starts; it cannot depend on values known only while building.`, attr.expr.range));
    return undefined;
  }
  return c.value.unmark();
}

function duration(attr: Attribute, ctx: EvalContext, diags: Diagnostic[]): number | undefined {
  const v = metaValue(attr, T.string, ctx, diags);
  if (!v) return undefined;
  const text = v.asString().trim();
  const negative = text.startsWith('-');
  const ms = parseDuration(negative ? text.slice(1) : text);
  if (ms === undefined) {
    diags.push(
      errorDiag(
        `Failed to parse ${attr.name} duration`,
        `time: invalid duration ${JSON.stringify(text)}. Write a duration the way Go does, such as "30s", "5m" or "1h30m".`,
        attr.expr.range,
      ),
    );
    return undefined;
  }
  return negative ? -ms : ms;
}

function decodeCommon(attrs: ReadonlyMap<string, Attribute>, ctx: EvalContext, diags: Diagnostic[]): StepMeta {
  const meta: StepMeta = { only: [], except: [] };
  const name = attrs.get('name');
  if (name) meta.name = metaValue(name, T.string, ctx, diags)?.asString();
  for (const key of ['only', 'except'] as const) {
    const a = attrs.get(key);
    if (!a) continue;
    const v = metaValue(a, T.list(T.string), ctx, diags);
    if (v) meta[key] = v.elements().map((e) => e.asString());
  }
  if (meta.only.length > 0 && meta.except.length > 0) {
    diags.push(errorDiag('Invalid only/except', 'Only one of "only" or "except" may be set on the same block.', attrs.get('except')!.range));
  }
  return meta;
}

/** Splits a provisioner body into its meta-arguments and the component's own configuration. */
export function decodeProvisionerMeta(body: Body, ctx: EvalContext): { meta: StepMeta; body: Body; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const { content, remain, diagnostics } = bodyPartialContent(body, provisionerMeta);
  diags.push(...diagnostics);
  const attrs = content.attributes;
  const meta = decodeCommon(attrs, ctx, diags);
  const pause = attrs.get('pause_before');
  if (pause) meta.pauseBefore = duration(pause, ctx, diags);
  const timeout = attrs.get('timeout');
  if (timeout) meta.timeout = duration(timeout, ctx, diags);
  const retries = attrs.get('max_retries');
  if (retries) {
    const v = metaValue(retries, T.number, ctx, diags);
    if (v) {
      const n = v.asNumber();
      if (!n.isInteger() || n.isNegative()) diags.push(errorDiag('Unsuitable value type', 'Unsuitable value: max_retries must be a whole number of at least 0.', retries.expr.range));
      else meta.maxRetries = n.toNumber();
    }
  }
  const override = attrs.get('override');
  if (override) {
    const v = metaValue(override, T.dynamic, ctx, diags);
    if (v) {
      if (!v.isMapping) {
        diags.push(errorDiag("provisioner's override block must be an HCL object", `The override must be an object of source names to fields, not a ${friendlyTypeName(v.type)}.`, override.expr.range));
      } else {
        meta.override = new Map();
        for (const [src, fields] of v.entries()) {
          if (!fields.isMapping) {
            diags.push(errorDiag('Invalid override', `The override for "${src}" must be an object of fields.`, override.expr.range));
            continue;
          }
          meta.override.set(src, fields);
        }
      }
    }
  }
  return { meta, body: remain, diagnostics: diags };
}

/** Splits a post-processor body into its meta-arguments and the component's own configuration. */
export function decodePostProcessorMeta(body: Body, ctx: EvalContext): { meta: StepMeta; body: Body; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const { content, remain, diagnostics } = bodyPartialContent(body, postProcessorMeta);
  diags.push(...diagnostics);
  const meta = decodeCommon(content.attributes, ctx, diags);
  const keep = content.attributes.get('keep_input_artifact');
  if (keep) {
    const v = metaValue(keep, T.bool, ctx, diags);
    if (v) meta.keepInputArtifact = v.asBool();
  }
  return { meta, body: remain, diagnostics: diags };
}
