/**
 * `dynamic` blocks (HCL's dynblock extension): in any native-syntax body,
 *
 *   dynamic "TYPE" { for_each = COLL  iterator = NAME  labels = [..]  content { … } }
 *
 * becomes one `TYPE` block per element of COLL, whose body is `content` with `NAME.key` and
 * `NAME.value` (NAME defaults to TYPE) replaced by that element's key and value. Nested dynamic
 * blocks expand too, inner ones seeing outer iterators. Expansion happens before the body is
 * decoded, with the context of the body's phase.
 *
 * The iterator's values are written into the syntax tree as literal expressions, so the expanded
 * body can be evaluated later (with build-time values) like any other body. JSON-syntax bodies
 * expand too (see `expandJson`).
 */
import { errorDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { Block, Body, Expression, JsonBody, JsonValue, NativeBody } from '../hcl/ast.js';

type JsonProp = { name: string; nameRange: Range; value: JsonValue };
import { bodyContent, bodyPartialContent, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { convert } from '../values/convert.js';
import { T, Value, formatNumber } from '../values/value.js';
import { withVariables } from './context.js';

const dynamicSchema: BodySchema = {
  attributes: [{ name: 'for_each', required: true }, { name: 'iterator' }, { name: 'labels' }],
  blocks: [{ type: 'content', labelNames: [] }],
};

/** True when the body (or a nested one) has a `dynamic` block, so that the common case costs nothing. */
function hasDynamic(body: Body): boolean {
  return body.kind === 'native' && body.blocks.some((b) => b.type === 'dynamic' || hasDynamic(b.body));
}

const jsonDynamicSchema: BodySchema = { attributes: [], blocks: [{ type: 'dynamic', labelNames: ['type'] }] };

export function expandDynamicBlocks(body: Body, ctx: EvalContext): { body: Body; diagnostics: Diagnostic[] } {
  if (body.kind === 'json') {
    if (body.value.kind !== 'object' || !body.value.props.some((p) => p.name === 'dynamic')) return { body, diagnostics: [] };
    return expandJson(body, ctx);
  }
  if (!hasDynamic(body)) return { body, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  return { body: expandNative(body as NativeBody, ctx, diagnostics), diagnostics };
}

/**
 * JSON syntax: `"dynamic": {"TYPE": {"for_each": …, "iterator": "NAME", "labels": […],
 * "content": {…}}}`. Each generated block is a property TYPE (nested by its labels) holding the
 * content object, placed where the `dynamic` property was; the iterator reaches the content's
 * expressions through the object's scope (JSON strings are parsed only when evaluated, so
 * nothing can be substituted in them). Blocks nested in the content are not expanded again.
 */
function expandJson(body: JsonBody, ctx: EvalContext): { body: Body; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const { content } = bodyPartialContent(body, jsonDynamicSchema);
  const generated: JsonProp[] = [];
  for (const block of content.blocks) {
    for (const b of expandOne(block, ctx, diagnostics)) {
      if (b.body.kind !== 'json') continue;
      const value = b.labels.reduceRight<JsonValue>(
        (inner, label) => ({ kind: 'object', props: [{ name: label, nameRange: b.typeRange, value: inner }], range: inner.range }),
        b.body.value,
      );
      generated.push({ name: b.type, nameRange: b.typeRange, value });
    }
  }
  const v = body.value as Extract<JsonValue, { kind: 'object' }>;
  const at = v.props.findIndex((p) => p.name === 'dynamic');
  const props = v.props.filter((p) => p.name !== 'dynamic');
  props.splice(at, 0, ...generated);
  return { body: { ...body, value: { ...v, props } }, diagnostics };
}

function expandNative(body: NativeBody, ctx: EvalContext, diags: Diagnostic[]): NativeBody {
  const blocks: Block[] = [];
  for (const block of body.blocks) {
    if (block.type !== 'dynamic') {
      blocks.push(hasDynamic(block.body) ? { ...block, body: expandNative(block.body as NativeBody, ctx, diags) } : block);
      continue;
    }
    blocks.push(...expandOne(block, ctx, diags));
  }
  return { ...body, blocks };
}

function expandOne(block: Block, ctx: EvalContext, diags: Diagnostic[]): Block[] {
  const blockType = block.labels[0];
  if (block.labels.length !== 1 || blockType === undefined) {
    diags.push(errorDiag('Invalid dynamic block', 'A dynamic block needs exactly one label: the type of the blocks it generates.', block.typeRange));
    return [];
  }
  const { content, diagnostics } = bodyContent(block.body, dynamicSchema);
  diags.push(...diagnostics);
  const forEach = content.attributes.get('for_each');
  if (!forEach) return [];
  const contentBlocks = content.blocks;
  if (contentBlocks.length !== 1) {
    diags.push(
      errorDiag(
        contentBlocks.length === 0 ? 'Missing content block' : 'Duplicate content block',
        'A dynamic block must have exactly one nested block of type "content".',
        contentBlocks[1]?.typeRange ?? block.typeRange,
      ),
    );
    return [];
  }
  let iterator = blockType;
  const it = content.attributes.get('iterator');
  if (it) {
    if (it.expr.kind === 'scopeTraversal' && it.expr.traversal.length === 0) iterator = it.expr.root;
    else if (it.expr.kind === 'json' && it.expr.value.kind === 'string' && /^[A-Za-z_][\w-]*$/.test(it.expr.value.value)) iterator = it.expr.value.value;
    else {
      diags.push(errorDiag('Invalid dynamic iterator name', 'The iterator must be a single identifier, such as `iterator = setting`.', it.expr.range));
      return [];
    }
  }
  const coll = evaluate(forEach.expr, ctx);
  diags.push(...coll.diagnostics);
  if (coll.diagnostics.some((d) => d.severity === 'error')) return [];
  const v = coll.value;
  if (v.unknown) return [];
  if (v.isNull || !(v.isSequence || v.isMapping)) {
    diags.push(errorDiag('Invalid dynamic for_each value', `Cannot use a ${v.isNull ? 'null' : v.type.kind} value in for_each. An iterable collection is required.`, forEach.expr.range));
    return [];
  }
  const pairs: [Value, Value][] = v.isSequence
    ? v.elements().map((e, i) => [v.type.kind === 'set' ? e : Value.number(i), e])
    : [...v.entries()].map(([k, e]) => [Value.string(k), e]);
  const out: Block[] = [];
  const labelsAttr = content.attributes.get('labels');
  for (const [key, value] of pairs) {
    let labels: string[] = [];
    if (labelsAttr) {
      const iterCtx = withVariables(ctx, new Map([[iterator, Value.object({ key, value })]]));
      const lr = evaluate(labelsAttr.expr, iterCtx);
      diags.push(...lr.diagnostics);
      const lc = convert(lr.value, T.list(T.string));
      if ('message' in lc || lc.value.isNull || !lc.value.isWhollyKnown) {
        if (!lr.diagnostics.length) diags.push(errorDiag('Invalid dynamic block label', 'The labels must be a list of known strings.', labelsAttr.expr.range));
        continue;
      }
      labels = lc.value.elements().map((e) => e.unmark().asString());
    }
    const contentBlock = contentBlocks[0]!;
    if (contentBlock.body.kind === 'json') {
      const cv = contentBlock.body.value;
      const iter = new Map([[iterator, Value.object({ key, value })]]);
      const scopedValue: JsonValue = cv.kind === 'object' ? { ...cv, scope: new Map([...(cv.scope ?? []), ...iter]) } : cv;
      out.push({ type: blockType, labels, body: { ...contentBlock.body, value: scopedValue }, range: block.range, typeRange: block.typeRange, labelRanges: labels.map(() => block.typeRange) });
      continue;
    }
    const body = substitute(contentBlock.body, iterator, key, value) as Body;
    const expanded = hasDynamic(body) ? expandNative(body as NativeBody, ctx, diags) : body;
    out.push({
      type: blockType,
      labels,
      body: expanded,
      range: block.range,
      typeRange: block.labelRanges[0] ?? block.typeRange,
      labelRanges: labels.map(() => block.labelRanges[0] ?? block.typeRange),
    });
  }
  return out;
}

/** A copy of `node` (any part of the syntax tree) with references to `iterator` replaced. */
function substitute(node: unknown, iterator: string, key: Value, value: Value): unknown {
  if (Array.isArray(node)) return node.map((n) => substitute(n, iterator, key, value));
  if (node === null || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  if (o.kind === 'scopeTraversal' && o.root === iterator) {
    const expr = o as unknown as Extract<Expression, { kind: 'scopeTraversal' }>;
    const [first, ...rest] = expr.traversal;
    let base: Expression;
    let remaining = expr.traversal;
    if (first?.kind === 'attr' && (first.name === 'key' || first.name === 'value')) {
      base = valueExpression(first.name === 'key' ? key : value, expr.range);
      remaining = rest;
    } else {
      base = valueExpression(Value.object({ key, value }), expr.range);
    }
    return remaining.length === 0 ? base : { kind: 'relativeTraversal', source: base, traversal: remaining, range: expr.range };
  }
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) copy[k] = k === 'range' || k.endsWith('Range') ? v : substitute(v, iterator, key, value);
  return copy;
}

/** An expression that evaluates to `v` (known values; sensitive ones wrapped in `sensitive()`). */
export function valueExpression(v: Value, range: Range): Expression {
  if (v.sensitive) {
    return { kind: 'call', name: 'sensitive', nameRange: range, args: [valueExpression(v.unmark(), range)], expandFinal: false, range, openParenRange: range, closeParenRange: range };
  }
  if (v.unknown || v.isNull) return { kind: 'literal', value: { type: 'null' }, range };
  if (typeof v.raw === 'string') return { kind: 'literal', value: { type: 'string', value: v.raw }, range };
  if (typeof v.raw === 'boolean') return { kind: 'literal', value: { type: 'bool', value: v.raw }, range };
  if (v.isSequence) return { kind: 'tuple', items: v.elements().map((e) => valueExpression(e, range)), range };
  if (v.isMapping) {
    return {
      kind: 'object',
      items: [...v.entries()].map(([k, e]) => ({ key: { kind: 'literal', value: { type: 'string', value: k }, range } as Expression, value: valueExpression(e, range) })),
      range,
    };
  }
  return { kind: 'literal', value: { type: 'number', text: formatNumber(v.asNumber()) }, range };
}
