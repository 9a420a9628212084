/**
 * Local variables: `locals { name = expr … }` blocks and single `local "name" { expression = …,
 * sensitive = … }` blocks. Each local is evaluated after the locals it refers to (found with
 * `variablesOf`), whatever the order of declaration; locals that refer to each other in a circle
 * are reported together, naming every member of the cycle.
 */
import { errorDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { Block, Expression } from '../hcl/ast.js';
import { bodyContent, bodyJustAttributes, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { variablesOf } from '../hcl/traversals.js';
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

/** The names of the locals an expression refers to. */
function localRefs(expr: Expression): string[] {
  const out: string[] = [];
  for (const ref of variablesOf(expr)) if (ref.root === 'local' && ref.steps[0] !== undefined) out.push(ref.steps[0]);
  return out;
}

/**
 * Orders the locals so each comes after those it refers to (Tarjan's algorithm, which also finds
 * the cycles). Locals within a cycle are left out of `order`.
 */
export function orderLocals(declared: ReadonlyMap<string, DeclaredLocal>): { order: string[]; cycles: string[][] } {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const order: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const deps = new Map([...declared].map(([n, l]) => [n, [...new Set(localRefs(l.expr))].filter((d) => declared.has(d))]));

  const visit = (n: string): void => {
    index.set(n, counter);
    low.set(n, counter);
    counter++;
    stack.push(n);
    onStack.add(n);
    for (const d of deps.get(n)!) {
      if (!index.has(d)) {
        visit(d);
        low.set(n, Math.min(low.get(n)!, low.get(d)!));
      } else if (onStack.has(d)) {
        low.set(n, Math.min(low.get(n)!, index.get(d)!));
      }
    }
    if (low.get(n) === index.get(n)) {
      const scc: string[] = [];
      let m: string;
      do {
        m = stack.pop()!;
        onStack.delete(m);
        scc.push(m);
      } while (m !== n);
      if (scc.length > 1 || deps.get(n)!.includes(n)) cycles.push(scc.reverse());
      else order.push(n);
    }
  };
  for (const n of declared.keys()) if (!index.has(n)) visit(n);
  return { order, cycles };
}

/**
 * Evaluates the locals in dependency order into `locals`. `contextFor(refs)` gives the context
 * with the locals evaluated so far; `refs` names the locals the expression refers to (only those
 * need to be in it).
 */
export function evaluateLocals(
  declared: ReadonlyMap<string, DeclaredLocal>,
  locals: Map<string, LocalDef>,
  contextFor: (refs: readonly string[]) => EvalContext,
): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const { order, cycles } = orderLocals(declared);
  for (const cycle of cycles) {
    const first = declared.get(cycle[0]!)!;
    diags.push(
      errorDiag(
        'Cycle in local variables',
        `The local variables ${cycle.map((n) => `local.${n}`).join(', ')} refer to each other in a cycle, so none of them can be evaluated. ` +
          'Break the cycle by making one of them independent of the others.',
        first.range,
      ),
    );
  }
  // Every declared local is visible (unknown until evaluated) so that a reference to a local
  // in a cycle is not also reported as a reference to an undeclared one.
  for (const l of declared.values()) locals.set(l.name, { name: l.name, sensitive: l.sensitive, range: l.range });
  for (const name of order) {
    const l = declared.get(name)!;
    const r = evaluate(l.expr, contextFor(localRefs(l.expr)));
    diags.push(...r.diagnostics);
    if (r.diagnostics.some((d) => d.severity === 'error')) continue;
    locals.set(name, { name, sensitive: l.sensitive || r.value.containsSensitive(), value: r.value, range: l.range });
  }
  return diags;
}
