/**
 * Why a component's attribute may change from one run to the next without the template changing:
 * the impure functions (`timestamp()`, `uuidv4()`, …) and the variables its expression reads,
 * directly or through locals — a static walk of the attribute's expression and of the expressions
 * of the locals it refers to (transitively). Nothing is evaluated.
 *
 * Contracts:
 * - `IMPURE_FUNCTIONS` are the functions whose result differs between calls with the same
 *   arguments: the time (`timestamp`, `legacy_isotime`, `legacy_strftime`) and randomness
 *   (`uuidv4`, `bcrypt`, whose salt is random).
 * - A nested block counts as one top-level part named by its type (`inputs` keys are top-level
 *   attribute and block names, as the evaluated configuration's keys).
 * - JSON bodies are walked the way they are evaluated: strings are templates.
 * - Locals that refer to each other in a circle are walked once (loading reports the cycle).
 */
import type { Body, Expression, JsonValue, TemplatePart } from '../hcl/ast.js';
import { bodyJustAttributes, bodyPartialContent } from '../hcl/body.js';
import { parseTemplate } from '../hcl/parser.js';
import { variablesOf } from '../hcl/traversals.js';
import type { Template } from '../template/model.js';
import type { PartCause } from './changes.js';

export const IMPURE_FUNCTIONS: ReadonlySet<string> = new Set(['timestamp', 'uuidv4', 'bcrypt', 'legacy_isotime', 'legacy_strftime']);

/** The expression of every local of a template (`locals { … }` and `local "name" { expression }`). */
export function localExpressions(template: Pick<Template, 'files'>): Map<string, Expression> {
  const out = new Map<string, Expression>();
  const schema = { attributes: [], blocks: [{ type: 'locals', labelNames: [] }, { type: 'local', labelNames: ['name'] }] };
  for (const f of template.files) {
    for (const block of bodyPartialContent(f.body, schema).content.blocks) {
      if (block.type === 'locals') {
        for (const a of bodyJustAttributes(block.body).attributes.values()) if (!out.has(a.name)) out.set(a.name, a.expr);
      } else {
        const expr = bodyPartialContent(block.body, { attributes: [{ name: 'expression' }], blocks: [] }).content.attributes.get('expression')?.expr;
        const name = block.labels[0];
        if (expr && name !== undefined && !out.has(name)) out.set(name, expr);
      }
    }
  }
  return out;
}

/** The causes of each top-level part of `bodies` (merged in order: a later body's attribute adds to
 * an earlier one's, as a build's inner `source` block extends the source). Parts with no cause are
 * left out. */
export function partCauses(bodies: readonly (Body | undefined)[], locals: ReadonlyMap<string, Expression>): Record<string, PartCause> {
  const analyse = causeAnalyser(locals);
  const out: Record<string, PartCause> = {};
  const add = (name: string, exprs: readonly Expression[]): void => {
    const impure = new Set(out[name]?.impure ?? []);
    const variables = new Set(out[name]?.variables ?? []);
    for (const e of exprs) {
      const c = analyse(e);
      c.impure.forEach((x) => impure.add(x));
      c.variables.forEach((x) => variables.add(x));
    }
    if (impure.size > 0 || variables.size > 0) out[name] = { impure: [...impure].sort(), variables: [...variables].sort() };
  };
  for (const body of bodies) {
    if (!body) continue;
    if (body.kind === 'native') {
      for (const a of body.attributes) add(a.name, [a.expr]);
      for (const b of body.blocks) add(b.type, allExpressions(b.body));
    } else if (body.value.kind === 'object') {
      for (const p of body.value.props) if (p.name !== '//') add(p.name, [{ kind: 'json', value: p.value, range: p.value.range }]);
    }
  }
  return out;
}

/** Every attribute expression of a body and of the blocks inside it. */
function allExpressions(body: Body): Expression[] {
  if (body.kind === 'json') return [{ kind: 'json', value: body.value, range: body.range }];
  return [...body.attributes.map((a) => a.expr), ...body.blocks.flatMap((b) => allExpressions(b.body))];
}

/** A memoised analysis of expressions against the template's locals. */
function causeAnalyser(locals: ReadonlyMap<string, Expression>): (e: Expression) => PartCause {
  const ofLocal = new Map<string, PartCause>();
  const analyse = (e: Expression, visiting: Set<string>): PartCause => {
    const impure = new Set<string>();
    const variables = new Set<string>();
    for (const name of callsOf(e)) if (IMPURE_FUNCTIONS.has(name)) impure.add(name);
    for (const ref of variablesOf(e)) {
      const first = ref.steps[0];
      if (first === undefined) continue;
      if (ref.root === 'var') variables.add(first);
      if (ref.root !== 'local' || visiting.has(first)) continue;
      let c = ofLocal.get(first);
      const expr = locals.get(first);
      if (!c && expr) {
        c = analyse(expr, new Set([...visiting, first]));
        ofLocal.set(first, c);
      }
      c?.impure.forEach((x) => impure.add(x));
      c?.variables.forEach((x) => variables.add(x));
    }
    return { impure: [...impure], variables: [...variables] };
  };
  return (e) => analyse(e, new Set());
}

/** The names of every function called in `e` (JSON strings parsed as templates). */
export function callsOf(e: Expression): string[] {
  const out: string[] = [];
  const walk = (x: Expression | undefined): void => {
    if (!x) return;
    switch (x.kind) {
      case 'literal':
      case 'anonSymbol':
      case 'scopeTraversal':
        return;
      case 'call':
        out.push(x.name);
        x.args.forEach(walk);
        return;
      case 'template':
        parts(x.parts);
        return;
      case 'templateWrap':
        walk(x.wrapped);
        return;
      case 'parens':
        walk(x.expr);
        return;
      case 'relativeTraversal':
        walk(x.source);
        return;
      case 'conditional':
        [x.cond, x.then, x.else].forEach(walk);
        return;
      case 'binary':
        walk(x.left);
        walk(x.right);
        return;
      case 'unary':
        walk(x.operand);
        return;
      case 'tuple':
        x.items.forEach(walk);
        return;
      case 'object':
        for (const i of x.items) {
          walk(i.key);
          walk(i.value);
        }
        return;
      case 'objectKey':
        walk(x.wrapped);
        return;
      case 'for':
        [x.coll, x.keyExpr, x.valExpr, x.condExpr].forEach(walk);
        return;
      case 'index':
        walk(x.collection);
        walk(x.key);
        return;
      case 'splat':
        walk(x.source);
        walk(x.each);
        return;
      case 'json':
        json(x.value);
        return;
    }
  };
  const parts = (ps: readonly TemplatePart[]): void => {
    for (const p of ps) {
      if (p.kind === 'interpolation') walk(p.expr);
      else if (p.kind === 'if') {
        walk(p.cond);
        parts(p.then);
        if (p.else) parts(p.else);
      } else if (p.kind === 'for') {
        walk(p.coll);
        parts(p.body);
      }
    }
  };
  const json = (v: JsonValue): void => {
    if (v.kind === 'string') {
      if (v.value.includes('${') || v.value.includes('%{')) {
        const parsed = parseTemplate(v.value, v.range.filename, v.range.start);
        if (!parsed.diagnostics.some((d) => d.severity === 'error')) walk(parsed.expr);
      }
    } else if (v.kind === 'array') v.items.forEach(json);
    else if (v.kind === 'object') for (const p of v.props) json(p.value);
  };
  walk(e);
  return out;
}
