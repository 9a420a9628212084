/**
 * Local variables: `locals { name = expr … }` blocks and single `local "name" { expression = …,
 * sensitive = … }` blocks, declared here; src/template/prereqs.ts evaluates them, with the data
 * blocks, each after what it refers to.
 */
import { errorDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { Block, Expression } from '../hcl/ast.js';
import { bodyContent, bodyJustAttributes, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { convert } from '../values/convert.js';
import { T } from '../values/value.js';
import type { LocalDef } from './model.js';
import { defRange, placeString } from './ranges.js';

export interface DeclaredLocal {
  name: string;
  expr: Expression;
  sensitive: boolean;
  range: Range;
}

const localSchema: BodySchema = {
  attributes: [{ name: 'expression', required: true }, { name: 'sensitive' }],
  blocks: [],
};

function add(local: DeclaredLocal, declared: Map<string, DeclaredLocal>, diags: Diagnostic[]): void {
  const existing = declared.get(local.name);
  if (existing) {
    diags.push(
      errorDiag(
        'Duplicate local definition',
        `Local variable "${local.name}" is defined twice in your templates; it was first defined at ${placeString(existing.range)}.`,
        local.range,
      ),
    );
    return;
  }
  declared.set(local.name, local);
}

/** Decodes a `locals { … }` block. */
export function decodeLocalsBlock(block: Block, declared: Map<string, DeclaredLocal>): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const { attributes, diagnostics } = bodyJustAttributes(block.body);
  diags.push(...diagnostics);
  for (const attr of attributes.values()) add({ name: attr.name, expr: attr.expr, sensitive: false, range: attr.nameRange }, declared, diags);
  return diags;
}

/** Decodes a `local "name" { expression = …, sensitive = … }` block. */
export function decodeLocalBlock(block: Block, declared: Map<string, DeclaredLocal>, ctx: EvalContext): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const { content, diagnostics } = bodyContent(block.body, localSchema);
  diags.push(...diagnostics);
  const expression = content.attributes.get('expression');
  if (!expression) return diags;
  let sensitive = false;
  const sens = content.attributes.get('sensitive');
  if (sens) {
    const r = evaluate(sens.expr, ctx);
    diags.push(...r.diagnostics);
    const c = convert(r.value, T.bool);
    if ('value' in c && !c.value.isNull && !c.value.unknown) sensitive = c.value.asBool();
    else if (!r.diagnostics.length) diags.push(errorDiag('Unsuitable value type', 'Unsuitable value for sensitive: a bool is required.', sens.expr.range));
  }
  add({ name: block.labels[0] ?? '', expr: expression.expr, sensitive, range: defRange(block) }, declared, diags);
  return diags;
}

/** An evaluated local (its value absent when evaluating it failed; the diagnostics say why). */
export function evaluateLocal(l: DeclaredLocal, ctx: EvalContext): { local: LocalDef; diagnostics: Diagnostic[] } {
  const r = evaluate(l.expr, ctx);
  const failed = r.diagnostics.some((d) => d.severity === 'error');
  return {
    local: failed ? { name: l.name, sensitive: l.sensitive, range: l.range } : { name: l.name, sensitive: l.sensitive || r.value.containsSensitive(), value: r.value, range: l.range },
    diagnostics: r.diagnostics,
  };
}
