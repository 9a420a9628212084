/**
 * Static analysis of expressions: which variables an expression refers to (HCL's
 * `Expression.Variables()`).
 *
 * Contracts:
 * - Names bound by an enclosing `for` expression or template `%{for}` are not references; splat
 *   placeholders are not either.
 * - A bare identifier used as an object key (`{ foo = 1 }`) is not a reference.
 * - JSON expressions are analysed the way they are evaluated: strings (and object keys) are parsed
 *   as templates and their references reported; unparsable strings contribute nothing (their
 *   evaluation reports the syntax error).
 * - References are reported in source order, once per occurrence.
 */
import type { Range } from '../diagnostics.js';
import type * as ast from './ast.js';
import { parseTemplate } from './parser.js';

/** One variable reference: `local.a.b[0]` is `{ root: "local", steps: ["a", "b", "0"] }`. Steps
 * stop at the first splat; an index step is its key as text (numbers as written, strings
 * unquoted). */
export interface VariableReference {
  root: string;
  steps: string[];
  range: Range;
}

/** Every variable reference in `expr` (see the module contract). */
export function variablesOf(expr: ast.Expression): VariableReference[] {
  return scopeTraversalsOf(expr).map((t) => {
    const steps: string[] = [];
    for (const s of t.traversal) {
      if (s.kind === 'splat') break;
      if (s.kind === 'attr') steps.push(s.name);
      else steps.push(literalText(s.key));
    }
    return { root: t.root, steps, range: t.range };
  });
}

/** The scope traversals (`var.x`, `local.y[0]`) in `expr` that refer to the enclosing scope. */
export function scopeTraversalsOf(expr: ast.Expression): ast.ScopeTraversalExpr[] {
  const out: ast.ScopeTraversalExpr[] = [];
  walk(expr, new Set(), out);
  return out;
}

function literalText(e: ast.LiteralExpr): string {
  switch (e.value.type) {
    case 'number':
      return e.value.text;
    case 'string':
      return e.value.value;
    case 'bool':
      return String(e.value.value);
    case 'null':
      return 'null';
  }
}

function walk(e: ast.Expression, locals: ReadonlySet<string>, out: ast.ScopeTraversalExpr[]): void {
  switch (e.kind) {
    case 'literal':
    case 'anonSymbol':
      return;
    case 'scopeTraversal':
      if (!locals.has(e.root)) out.push(e);
      return;
    case 'template':
      walkParts(e.parts, locals, out);
      return;
    case 'templateWrap':
      walk(e.wrapped, locals, out);
      return;
    case 'parens':
      walk(e.expr, locals, out);
      return;
    case 'relativeTraversal':
      walk(e.source, locals, out);
      return;
    case 'call':
      for (const a of e.args) walk(a, locals, out);
      return;
    case 'conditional':
      walk(e.cond, locals, out);
      walk(e.then, locals, out);
      walk(e.else, locals, out);
      return;
    case 'binary':
      walk(e.left, locals, out);
      walk(e.right, locals, out);
      return;
    case 'unary':
      walk(e.operand, locals, out);
      return;
    case 'tuple':
      for (const i of e.items) walk(i, locals, out);
      return;
    case 'object':
      for (const i of e.items) {
        walk(i.key, locals, out);
        walk(i.value, locals, out);
      }
      return;
    case 'objectKey': {
      const w = e.wrapped;
      const literal = !e.forceNonLiteral && w.kind === 'scopeTraversal' && w.traversal.length === 0;
      if (!literal) walk(w, locals, out);
      return;
    }
    case 'for': {
      walk(e.coll, locals, out);
      const inner = new Set(locals);
      if (e.keyVar) inner.add(e.keyVar);
      inner.add(e.valueVar);
      if (e.keyExpr) walk(e.keyExpr, inner, out);
      walk(e.valExpr, inner, out);
      if (e.condExpr) walk(e.condExpr, inner, out);
      return;
    }
    case 'index':
      walk(e.collection, locals, out);
      walk(e.key, locals, out);
      return;
    case 'splat':
      walk(e.source, locals, out);
      walk(e.each, locals, out);
      return;
    case 'json':
      walkJson(e.value, locals, out);
      return;
  }
}

function walkParts(parts: readonly ast.TemplatePart[], locals: ReadonlySet<string>, out: ast.ScopeTraversalExpr[]): void {
  for (const p of parts) {
    switch (p.kind) {
      case 'literal':
        break;
      case 'interpolation':
        walk(p.expr, locals, out);
        break;
      case 'if':
        walk(p.cond, locals, out);
        walkParts(p.then, locals, out);
        if (p.else) walkParts(p.else, locals, out);
        break;
      case 'for': {
        walk(p.coll, locals, out);
        const inner = new Set(locals);
        if (p.keyVar) inner.add(p.keyVar);
        inner.add(p.valueVar);
        walkParts(p.body, inner, out);
        break;
      }
    }
  }
}

function walkJson(v: ast.JsonValue, locals: ReadonlySet<string>, out: ast.ScopeTraversalExpr[]): void {
  switch (v.kind) {
    case 'string':
      walkJsonString(v.value, v.range, locals, out);
      return;
    case 'array':
      for (const i of v.items) walkJson(i, locals, out);
      return;
    case 'object':
      for (const p of v.props) {
        walkJsonString(p.name, p.nameRange, locals, out);
        walkJson(p.value, locals, out);
      }
      return;
    default:
      return;
  }
}

function walkJsonString(text: string, range: Range, locals: ReadonlySet<string>, out: ast.ScopeTraversalExpr[]): void {
  if (!text.includes('${') && !text.includes('%{')) return;
  const start = { line: range.start.line, column: range.start.column + 1, byte: range.start.byte + 1 };
  const parsed = parseTemplate(text, range.filename, start);
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return;
  walk(parsed.expr, locals, out);
}
