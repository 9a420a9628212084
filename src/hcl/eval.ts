/**
 * The evaluator of HCL expressions (native and JSON syntax), with hclsyntax's semantics and
 * diagnostics.
 *
 * Contracts:
 * - `evaluate` never throws for a user error: problems come back as diagnostics, and the value is
 *   then a placeholder (usually an unknown of the expected type), as HCL returns.
 * - `ctx === null` means "no variables and no functions here" (HCL's nil EvalContext): a reference
 *   gives "Variables not allowed" and a call "Function calls not allowed". A context chain that
 *   defines no variable at all (variable defaults in Packer) behaves the same for references, and
 *   an empty function table the same for calls.
 * - Sensitive marks propagate through every operation; unknown values propagate (an operation on
 *   an unknown value gives an unknown result of the operation's type).
 * - Functions are called through `src/functions/call.ts` (the calling convention); lazy functions
 *   (`can`, `try`, `convert`) get their arguments unevaluated as `LazyArg`s.
 * - `FunctionCallContext.renderTemplate` is provided to functions (for `templatefile`) when the
 *   caller did not set one: it renders with the same function table.
 */
import { errorDiag, hasErrors, rangeBetween, rangeString, type Diagnostic, type Range } from '../diagnostics.js';
import { callFunction, callLazyFunction, functionCallProblem } from '../functions/call.js';
import { FunctionArityError, FunctionError, type FunctionCallContext, type FunctionDef, type FunctionTable, type LazyArg } from '../functions/types.js';
import { convert, unifyTypes } from '../values/convert.js';
import { parseTypeConstraint } from './typeexpr.js';
import { T, Value, friendlyTypeName, typeEquals, type Type } from '../values/value.js';
import type * as ast from './ast.js';
import { arithmetic, compare, equalsValue, getAttr, indexValue, type OpResult } from './eval-ops.js';
import { nameSuggestion, parseTemplate } from './parser.js';
import { scopeTraversalsOf } from './traversals.js';

export interface EvalContext {
  variables: ReadonlyMap<string, Value>;
  functions: FunctionTable;
  functionContext: FunctionCallContext;
  /** Outer scope, consulted for names this context does not define (as HCL's child contexts). */
  parent?: EvalContext;
}

export interface EvalResult {
  value: Value;
  diagnostics: Diagnostic[];
}

/** Evaluates an expression. See the module contract. */
export function evaluate(expr: ast.Expression, ctx: EvalContext | null): EvalResult {
  return new Evaluator().eval(expr, ctx);
}

/**
 * Renders a template string (as `templatefile` does): `source` is parsed as a bare template and
 * evaluated with `vars` as its only variables and `functions` as its functions. Errors are thrown
 * as a `FunctionError` carrying HCL's diagnostic text ("file:1,3-8: Summary; Detail").
 */
export function renderTemplate(
  source: string,
  filename: string,
  vars: ReadonlyMap<string, Value>,
  functions: FunctionTable,
  functionContext: FunctionCallContext,
): Value {
  const parsed = parseTemplate(source, filename);
  const diags = [...parsed.diagnostics];
  let value = Value.unknown(T.string);
  if (!hasErrors(diags)) {
    const r = evaluate(parsed.expr, { variables: vars, functions, functionContext });
    diags.push(...r.diagnostics);
    value = r.value;
  }
  const errors = diags.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const text = (d: Diagnostic): string => `${d.subject ? `${rangeString(d.subject)}: ` : ''}${d.summary}; ${d.detail ?? ''}`;
    const more = errors.length > 1 ? `, and ${errors.length - 1} other diagnostic(s)` : '';
    throw new FunctionError(`${text(errors[0]!)}${more}`);
  }
  return value;
}

// ---- internals ----------------------------------------------------------------------------------

/** The function table of child contexts made under a nil (`null`) context: calls are refused. */
const NO_FUNCTIONS: FunctionTable = new Map();
const NO_FUNCTION_CONTEXT: FunctionCallContext = { baseDir: '.', cwd: '.' };

/** Function contexts with `renderTemplate` added, made once per (context, function table). */
const renderingContexts = new WeakMap<FunctionCallContext, WeakMap<FunctionTable, FunctionCallContext>>();

type R = EvalResult;
const ok = (value: Value, diagnostics: Diagnostic[] = []): R => ({ value, diagnostics });
const DYNAMIC = Value.unknown();

function childContext(ctx: EvalContext | null, vars: Map<string, Value>): EvalContext {
  if (ctx) return { variables: vars, functions: ctx.functions, functionContext: ctx.functionContext, parent: ctx };
  return { variables: vars, functions: NO_FUNCTIONS, functionContext: NO_FUNCTION_CONTEXT };
}

function lookupVariable(ctx: EvalContext | null, name: string): Value | undefined {
  for (let c: EvalContext | undefined = ctx ?? undefined; c; c = c.parent) {
    const v = c.variables.get(name);
    if (v !== undefined) return v;
  }
  return undefined;
}

function allVariableNames(ctx: EvalContext | null): string[] {
  const names = new Set<string>();
  for (let c: EvalContext | undefined = ctx ?? undefined; c; c = c.parent) for (const k of c.variables.keys()) names.add(k);
  return [...names].sort();
}

/** Finds a function in the context chain; `names` are all the names the chain offers. */
function lookupFunction(ctx: EvalContext | null, name: string): { def?: FunctionDef; table?: FunctionTable; functionContext?: FunctionCallContext; names: string[] } {
  const names = new Set<string>();
  for (let c: EvalContext | undefined = ctx ?? undefined; c; c = c.parent) {
    const def = c.functions.get(name);
    if (def) return { def, table: c.functions, functionContext: c.functionContext, names: [] };
    for (const k of c.functions.keys()) names.add(k);
  }
  return { names: [...names].sort() };
}

function isDynamicNull(v: Value): boolean {
  return v.isNull && v.type.kind === 'dynamic' && !v.sensitive;
}

function anySensitive(...vs: Value[]): boolean {
  return vs.some((v) => v.sensitive);
}

/** The (key, value) pairs a `for` expression or template `for` iterates over. */
function iterationPairs(coll: Value, withKeys: boolean): [Value, Value][] {
  if (coll.isMapping) return [...coll.entries()].map(([k, v]) => [withKeys ? Value.string(k) : DYNAMIC, v]);
  if (coll.type.kind === 'set') return coll.elements().map((e) => [e, e]);
  return coll.elements().map((e, i) => [withKeys ? Value.number(i) : DYNAMIC, e]);
}

function canIterate(t: Type): boolean {
  return ['list', 'set', 'tuple', 'map', 'object'].includes(t.kind);
}

class Evaluator {
  /** Values bound to splat placeholders while a splat's `each` is evaluated. */
  private readonly anon = new Map<ast.AnonSymbolExpr, Value>();

  eval(e: ast.Expression, ctx: EvalContext | null): R {
    switch (e.kind) {
      case 'literal':
        return ok(this.literal(e));
      case 'template':
        return this.template(e.parts, ctx);
      case 'templateWrap':
        return this.eval(e.wrapped, ctx);
      case 'parens':
        return this.eval(e.expr, ctx);
      case 'scopeTraversal':
        return this.scopeTraversal(e, ctx);
      case 'relativeTraversal': {
        const src = this.eval(e.source, ctx);
        const r = this.traverse(src.value, e.traversal);
        return ok(r.value, [...src.diagnostics, ...r.diagnostics]);
      }
      case 'call':
        return this.call(e, ctx);
      case 'conditional':
        return this.conditional(e, ctx);
      case 'binary':
        return this.binary(e, ctx);
      case 'unary':
        return this.unary(e, ctx);
      case 'tuple': {
        const diags: Diagnostic[] = [];
        const vals = e.items.map((i) => {
          const r = this.eval(i, ctx);
          diags.push(...r.diagnostics);
          return r.value;
        });
        return ok(Value.tuple(vals), diags);
      }
      case 'object':
        return this.object(e, ctx);
      case 'objectKey':
        return this.objectKey(e, ctx);
      case 'for':
        return this.forExpr(e, ctx);
      case 'index': {
        const coll = this.eval(e.collection, ctx);
        const key = this.eval(e.key, ctx);
        const r = this.opResult(indexValue(coll.value, key.value), e.bracketRange);
        return ok(r.value, [...coll.diagnostics, ...key.diagnostics, ...r.diagnostics]);
      }
      case 'splat':
        return this.splat(e, ctx);
      case 'anonSymbol':
        return ok(this.anon.get(e) ?? DYNAMIC);
      case 'json':
        return this.json(e.value, e.scope && ctx ? { ...ctx, variables: e.scope, parent: ctx } : ctx);
    }
  }

  private literal(e: ast.LiteralExpr): Value {
    switch (e.value.type) {
      case 'number':
        return Value.number(e.value.text);
      case 'bool':
        return Value.bool(e.value.value);
      case 'string':
        return Value.string(e.value.value);
      case 'null':
        return Value.null();
    }
  }

  private opResult(r: OpResult, subject: Range): R {
    if ('value' in r) return ok(r.value);
    return ok(DYNAMIC, [errorDiag(r.failure.summary, r.failure.detail, subject)]);
  }

  // ---- templates --------------------------------------------------------------------------------

  private template(parts: readonly ast.TemplatePart[], ctx: EvalContext | null): R {
    const diags: Diagnostic[] = [];
    let out = '';
    let known = true;
    let sensitive = false;
    for (const part of parts) {
      if (part.kind === 'literal') {
        out += part.value;
        continue;
      }
      const r = part.kind === 'interpolation' ? this.eval(part.expr, ctx) : part.kind === 'if' ? this.templateIf(part, ctx) : this.templateFor(part, ctx);
      diags.push(...r.diagnostics);
      const v = r.value;
      const subject = part.kind === 'interpolation' ? part.expr.range : part.range;
      if (v.isNull) {
        diags.push(errorDiag('Invalid template interpolation value', 'The expression result is null. Cannot include a null value in a string template.', subject));
        continue;
      }
      sensitive ||= v.sensitive;
      if (v.unknown) {
        known = false;
        continue;
      }
      const s = convert(v.unmark(), T.string);
      if ('error' in s) {
        diags.push(errorDiag('Invalid template interpolation value', `Cannot include the given value in a string template: ${s.message}.`, subject));
        continue;
      }
      if (s.value.unknown) {
        known = false;
        continue;
      }
      out += s.value.asString();
    }
    const value = known ? Value.string(out) : Value.unknown(T.string);
    return ok(value.markSensitive(sensitive), diags);
  }

  private templateIf(part: Extract<ast.TemplatePart, { kind: 'if' }>, ctx: EvalContext | null): R {
    const cond = this.eval(part.cond, ctx);
    const diags = [...cond.diagnostics];
    const c = this.condition(cond.value, part.cond.range, diags);
    if (c === 'error') return ok(Value.unknown(T.string), diags);
    if (c === 'unknown') return ok(Value.unknown(T.string).markSensitive(cond.value.sensitive), diags);
    const branch = c.value ? part.then : (part.else ?? []);
    const r = this.template(branch, ctx);
    return ok(r.value.markSensitive(cond.value.sensitive), [...diags, ...r.diagnostics]);
  }

  private templateFor(part: Extract<ast.TemplatePart, { kind: 'for' }>, ctx: EvalContext | null): R {
    const coll = this.eval(part.coll, ctx);
    const diags = [...coll.diagnostics];
    const c = coll.value;
    if (c.isNull) {
      diags.push(errorDiag('Iteration over null value', "A null value cannot be used as the collection in a 'for' expression.", part.coll.range));
      return ok(Value.unknown(T.string), diags);
    }
    if (c.type.kind === 'dynamic') return ok(Value.unknown(T.string), diags);
    if (!canIterate(c.type)) {
      diags.push(
        errorDiag('Iteration over non-iterable value', `A value of type ${friendlyTypeName(c.type)} cannot be used as the collection in a 'for' expression.`, part.coll.range),
      );
      return ok(Value.unknown(T.string), diags);
    }
    if (c.unknown) return ok(Value.unknown(T.string).markSensitive(c.sensitive), diags);
    let out = '';
    let known = true;
    let sensitive = c.sensitive;
    for (const [k, v] of iterationPairs(c.unmark(), part.keyVar !== undefined)) {
      const vars = new Map<string, Value>();
      if (part.keyVar) vars.set(part.keyVar, k);
      vars.set(part.valueVar, v);
      const r = this.template(part.body, childContext(ctx, vars));
      diags.push(...r.diagnostics);
      sensitive ||= r.value.sensitive;
      if (r.value.unknown) known = false;
      else out += r.value.unmark().asString();
    }
    return ok((known ? Value.string(out) : Value.unknown(T.string)).markSensitive(sensitive), diags);
  }

  /** Checks a condition value (of a conditional or a template `if`) the way HCL does. */
  private condition(v: Value, subject: Range, diags: Diagnostic[]): 'error' | 'unknown' | { value: boolean } {
    if (v.isNull) {
      diags.push(errorDiag('Null condition', 'The condition value is null. Conditions must either be true or false.', subject));
      return 'error';
    }
    if (v.unknown) return 'unknown';
    const b = convert(v.unmark(), T.bool);
    if ('error' in b) {
      diags.push(errorDiag('Incorrect condition type', 'The condition expression must be of type bool.', subject));
      return 'error';
    }
    return { value: b.value.asBool() };
  }

  // ---- traversals -------------------------------------------------------------------------------

  private scopeTraversal(e: ast.ScopeTraversalExpr, ctx: EvalContext | null): R {
    const root = lookupVariable(ctx, e.root);
    if (root === undefined) {
      const names = allVariableNames(ctx);
      if (names.length === 0) return ok(DYNAMIC, [errorDiag('Variables not allowed', 'Variables may not be used here.', e.rootRange)]);
      const s = nameSuggestion(e.root, names);
      return ok(DYNAMIC, [errorDiag('Unknown variable', `There is no variable named ${JSON.stringify(e.root)}.${s ? ` Did you mean ${JSON.stringify(s)}?` : ''}`, e.rootRange)]);
    }
    return this.traverse(root, e.traversal);
  }

  /** Applies literal traversal steps (`.name`, `[key]`, and the legacy `.*`) to a value. */
  traverse(start: Value, steps: readonly ast.Traverser[]): R {
    let v = start;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (step.kind === 'splat') return this.traverseSplat(v, steps.slice(i + 1));
      const r = step.kind === 'attr' ? getAttr(v, step.name) : indexValue(v, this.literal(step.key));
      if ('failure' in r) return ok(DYNAMIC, [errorDiag(r.failure.summary, r.failure.detail, step.range)]);
      v = r.value;
    }
    return ok(v);
  }

  private traverseSplat(source: Value, rest: readonly ast.Traverser[]): R {
    if (source.isNull) return ok(Value.tuple([]));
    if (source.unknown) return ok(DYNAMIC);
    const seq = source.isSequence ? source.unmark().elements() : [source];
    const diags: Diagnostic[] = [];
    const vals = seq.map((e) => {
      const r = this.traverse(e, rest);
      diags.push(...r.diagnostics);
      return r.value;
    });
    return ok(Value.tuple(vals).markSensitive(source.sensitive && source.isSequence), diags);
  }

  // ---- function calls ---------------------------------------------------------------------------

  private call(e: ast.FunctionCallExpr, ctx: EvalContext | null): R {
    const found = lookupFunction(ctx, e.name);
    const def = found.def;
    if (!def && found.names.length === 0) {
      return ok(DYNAMIC, [errorDiag('Function calls not allowed', 'Functions may not be called here.', e.range)]);
    }
    if (!def) {
      const s = nameSuggestion(e.name, found.names);
      return ok(DYNAMIC, [errorDiag('Call to unknown function', `There is no function named ${JSON.stringify(e.name)}.${s ? ` Did you mean ${JSON.stringify(s)}?` : ''}`, e.nameRange)]);
    }
    const fctx = this.functionContext(found.table!, found.functionContext!);
    const diags: Diagnostic[] = [];
    // Arguments, after `...` expansion, each with the range to blame.
    const args: { expr?: ast.Expression; value?: Value; range: Range }[] = e.args.map((a) => ({ expr: a, range: a.range }));
    if (e.expandFinal && e.args.length > 0) {
      const last = e.args[e.args.length - 1]!;
      const r = this.eval(last, ctx);
      diags.push(...r.diagnostics);
      if (hasErrors(r.diagnostics)) return ok(DYNAMIC, diags);
      const v = r.value;
      const expandable = v.type.kind === 'dynamic' || v.isSequence;
      if (!expandable) {
        diags.push(errorDiag('Invalid expanding argument value', 'The expanding argument (indicated by ...) must be of a tuple, list, or set type.', last.range));
        return ok(DYNAMIC, diags);
      }
      if (v.isNull) {
        diags.push(errorDiag('Invalid expanding argument value', 'The expanding argument (indicated by ...) must not be null.', last.range));
        return ok(DYNAMIC, diags);
      }
      if (v.unknown) return ok(DYNAMIC, diags);
      args.pop();
      for (const el of v.unmark().elements()) args.push({ value: el.markSensitive(v.sensitive), range: last.range });
    }

    if (def.lazyImpl) {
      const lazy: LazyArg[] = args.map((a) => this.lazyArg(a, ctx));
      return this.invoke(e, def, args, diags, () => callLazyFunction(def, lazy, fctx, e.name));
    }
    const values: Value[] = [];
    for (const a of args) {
      if (a.value) {
        values.push(a.value);
        continue;
      }
      const r = this.eval(a.expr!, ctx);
      diags.push(...r.diagnostics);
      values.push(r.value);
    }
    if (hasErrors(diags)) return ok(DYNAMIC, diags);
    return this.invoke(e, def, args, diags, () => callFunction(def, values, fctx, e.name));
  }

  private invoke(e: ast.FunctionCallExpr, def: FunctionDef, args: readonly { range: Range }[], diags: Diagnostic[], run: () => Value): R {
    try {
      return ok(run(), diags);
    } catch (err) {
      const problem = functionCallProblem(e.name, def, err);
      if (!problem) throw err;
      let subject: Range = rangeBetween(e.nameRange, e.openParenRange);
      if (problem.argIndex !== undefined) subject = args[problem.argIndex]?.range ?? e.range;
      else if (err instanceof FunctionArityError) {
        subject = err.summary === 'Too many function arguments' ? (args[def.params.length]?.range ?? e.closeParenRange) : e.closeParenRange;
      }
      diags.push(errorDiag(problem.summary, problem.detail, subject));
      return ok(DYNAMIC, diags);
    }
  }

  private functionContext(table: FunctionTable, fctx: FunctionCallContext): FunctionCallContext {
    if (fctx.renderTemplate) return fctx;
    let byTable = renderingContexts.get(fctx);
    if (!byTable) {
      byTable = new WeakMap();
      renderingContexts.set(fctx, byTable);
    }
    let withRenderer = byTable.get(table);
    if (!withRenderer) {
      const made: FunctionCallContext = {
        ...fctx,
        renderTemplate: (source, filename, vars) => renderTemplate(source, filename, vars, table, made),
      };
      withRenderer = made;
      byTable.set(table, made);
    }
    return withRenderer;
  }

  private lazyArg(a: { expr?: ast.Expression; value?: Value; range: Range }, ctx: EvalContext | null): LazyArg {
    const expr = a.expr;
    if (!expr) {
      const value = a.value!;
      return {
        evaluate: () => ok(value),
        dependsOnUnknowns: () => !value.isWhollyKnown,
        typeConstraint: () => ({ type: T.dynamic, diagnostics: [errorDiag('Invalid type specification', 'A type specification cannot be expanded from a value.', a.range)] }),
      };
    }
    return {
      evaluate: () => this.eval(expr, ctx),
      dependsOnUnknowns: () =>
        scopeTraversalsOf(expr).some((t) => {
          const r = this.scopeTraversal(t, ctx);
          return !hasErrors(r.diagnostics) && !r.value.isWhollyKnown;
        }),
      typeConstraint: () => parseTypeConstraint(expr, { withDefaults: false }),
    };
  }

  // ---- conditionals and operators ---------------------------------------------------------------

  private conditional(e: ast.ConditionalExpr, ctx: EvalContext | null): R {
    const t = this.eval(e.then, ctx);
    const f = this.eval(e.else, ctx);
    let resultType: Type | undefined = T.dynamic;
    if (isDynamicNull(t.value)) resultType = f.value.type;
    else if (isDynamicNull(f.value)) resultType = t.value.type;
    else if (t.value.type.kind !== 'dynamic' && f.value.type.kind !== 'dynamic') resultType = unifyTypes([t.value.type, f.value.type]);
    if (!resultType) {
      return ok(DYNAMIC, [
        errorDiag(
          'Inconsistent conditional result types',
          `The true and false result expressions must have consistent types. ${describeConditionalTypeMismatch(t.value.type, f.value.type)}.`,
          rangeBetween(e.then.range, e.else.range),
        ),
      ]);
    }
    const cond = this.eval(e.cond, ctx);
    const diags = [...cond.diagnostics];
    const c = this.condition(cond.value, e.cond.range, diags);
    if (c === 'error') return ok(Value.unknown(resultType), diags);
    if (c === 'unknown') return ok(Value.unknown(resultType).markSensitive(anySensitive(cond.value, t.value, f.value)), diags);
    const [chosen, which, expr] = c.value ? [t, 'true', e.then] : [f, 'false', e.else];
    diags.push(...chosen.diagnostics);
    let v = chosen.value;
    if (resultType.kind !== 'dynamic' && !typeEquals(v.type, resultType)) {
      const conv = convert(v, resultType);
      if ('error' in conv) {
        diags.push(errorDiag('Inconsistent conditional result types', `The ${which} result value has the wrong type: ${conv.message}.`, expr.range));
        v = Value.unknown(resultType);
      } else v = conv.value;
    }
    return ok(v.markSensitive(cond.value.sensitive), diags);
  }

  private binary(e: ast.BinaryOpExpr, ctx: EvalContext | null): R {
    const op = e.op;
    const paramType = op === '==' || op === '!=' ? T.dynamic : op === '&&' || op === '||' ? T.bool : T.number;
    const resultType = op === '+' || op === '-' || op === '*' || op === '/' || op === '%' ? T.number : T.bool;
    const diags: Diagnostic[] = [];
    const l = this.eval(e.left, ctx);
    const lc = paramType.kind === 'dynamic' ? { value: l.value } : convert(l.value, paramType);
    if ('error' in lc) diags.push(errorDiag('Invalid operand', `Unsuitable value for left operand: ${lc.message}.`, e.left.range));
    const r = this.eval(e.right, ctx);
    const rc = paramType.kind === 'dynamic' ? { value: r.value } : convert(r.value, paramType);
    if ('error' in rc) diags.push(errorDiag('Invalid operand', `Unsuitable value for right operand: ${rc.message}.`, e.right.range));
    if ('error' in lc || 'error' in rc) return ok(Value.unknown(resultType), [...diags, ...l.diagnostics, ...r.diagnostics]);
    const lv = lc.value;
    const rv = rc.value;
    const sensitive = lv.sensitive || rv.sensitive;
    const a = lv.unmark();
    const b = rv.unmark();

    if (op === '&&' || op === '||') {
      const short = shortCircuit(op, a, b, l.diagnostics, r.diagnostics);
      if (short) return ok(short.value.markSensitive(sensitive), short.diagnostics);
    }
    diags.push(...l.diagnostics, ...r.diagnostics);
    if (hasErrors(diags)) return ok(Value.unknown(resultType).markSensitive(sensitive), diags);

    if (op === '==' || op === '!=') {
      const eq = equalsValue(a, b);
      const v = eq.unknown || op === '==' ? eq : Value.bool(!eq.asBool());
      return ok(v.markSensitive(sensitive), diags);
    }
    if (a.isNull || b.isNull) {
      diags.push(errorDiag('Operation failed', 'Error during operation: argument must not be null.', e.range));
      return ok(Value.unknown(resultType), diags);
    }
    if (a.unknown || b.unknown) return ok(Value.unknown(resultType).markSensitive(sensitive), diags);
    if (op === '&&') return ok(Value.bool(a.asBool() && b.asBool()).markSensitive(sensitive), diags);
    if (op === '||') return ok(Value.bool(a.asBool() || b.asBool()).markSensitive(sensitive), diags);
    if (op === '<' || op === '>' || op === '<=' || op === '>=') return ok(Value.bool(compare(op, a.asNumber(), b.asNumber())).markSensitive(sensitive), diags);
    const res = arithmetic(op, a.asNumber(), b.asNumber());
    if ('error' in res) {
      diags.push(errorDiag('Operation failed', `Error during operation: ${res.error}.`, e.range));
      return ok(Value.unknown(T.number), diags);
    }
    return ok(Value.number(res.value).markSensitive(sensitive), diags);
  }

  private unary(e: ast.UnaryOpExpr, ctx: EvalContext | null): R {
    const type = e.op === '!' ? T.bool : T.number;
    const r = this.eval(e.operand, ctx);
    const diags = [...r.diagnostics];
    const c = convert(r.value, type);
    if ('error' in c) diags.push(errorDiag('Invalid operand', `Unsuitable value for unary operand: ${c.message}.`, e.operand.range));
    if (hasErrors(diags) || 'error' in c) return ok(Value.unknown(type), diags);
    const v = c.value;
    if (v.isNull) {
      diags.push(errorDiag('Operation failed', 'Error during operation: argument must not be null.', e.range));
      return ok(Value.unknown(type), diags);
    }
    if (v.unknown) return ok(Value.unknown(type).markSensitive(v.sensitive), diags);
    const out = e.op === '!' ? Value.bool(!v.unmark().asBool()) : Value.number(v.unmark().asNumber().negated());
    return ok(out.markSensitive(v.sensitive), diags);
  }

  // ---- constructors -----------------------------------------------------------------------------

  private object(e: ast.ObjectConsExpr, ctx: EvalContext | null): R {
    const diags: Diagnostic[] = [];
    const vals = new Map<string, Value>();
    let known = true;
    let sensitive = false;
    for (const item of e.items) {
      const k = this.eval(item.key, ctx);
      diags.push(...k.diagnostics);
      const v = this.eval(item.value, ctx);
      diags.push(...v.diagnostics);
      if (hasErrors(k.diagnostics)) {
        known = false;
        continue;
      }
      if (k.value.isNull) {
        diags.push(errorDiag('Null value as key', "Can't use a null value as a key.", item.value.range));
        known = false;
        continue;
      }
      sensitive ||= k.value.sensitive;
      const ks = convert(k.value.unmark(), T.string);
      if ('error' in ks) {
        diags.push(errorDiag('Incorrect key type', `Can't use this value as a key: ${ks.message}.`, item.key.range));
        known = false;
        continue;
      }
      if (ks.value.unknown) {
        known = false;
        continue;
      }
      vals.set(ks.value.asString(), v.value);
    }
    if (!known) return ok(DYNAMIC, diags);
    return ok(Value.object(vals).markSensitive(sensitive), diags);
  }

  private objectKey(e: ast.ObjectConsKeyExpr, ctx: EvalContext | null): R {
    if (!e.forceNonLiteral) {
      const w = e.wrapped;
      if (w.kind === 'scopeTraversal' && w.traversal.length > 0) {
        return ok(DYNAMIC, [
          errorDiag(
            'Ambiguous attribute key',
            "If this expression is intended to be a reference, wrap it in parentheses. If it's instead intended as a literal name containing periods, wrap it in quotes to create a string literal.",
            e.range,
          ),
        ]);
      }
      const kw = keywordOf(w);
      if (kw !== undefined) return ok(Value.string(kw));
    }
    return this.eval(e.wrapped, ctx);
  }

  private forExpr(e: ast.ForExpr, ctx: EvalContext | null): R {
    const coll = this.eval(e.coll, ctx);
    const diags = [...coll.diagnostics];
    const c = coll.value;
    if (c.isNull) {
      diags.push(errorDiag('Iteration over null value', "A null value cannot be used as the collection in a 'for' expression.", e.coll.range));
      return ok(DYNAMIC, diags);
    }
    if (c.type.kind === 'dynamic') return ok(DYNAMIC, diags);
    if (!canIterate(c.type)) {
      diags.push(errorDiag('Iteration over non-iterable value', `A value of type ${friendlyTypeName(c.type)} cannot be used as the collection in a 'for' expression.`, e.coll.range));
      return ok(DYNAMIC, diags);
    }
    if (c.unknown) return ok(DYNAMIC, diags);
    const bind = (k: Value, v: Value): EvalContext => {
      const vars = new Map<string, Value>();
      if (e.keyVar) vars.set(e.keyVar, k);
      vars.set(e.valueVar, v);
      return childContext(ctx, vars);
    };

    // An early check of the condition's type with unknown iteration values, as HCL does.
    if (e.condExpr) {
      const r = this.eval(e.condExpr, bind(DYNAMIC, DYNAMIC));
      diags.push(...r.diagnostics);
      if (r.value.isNull) {
        diags.push(errorDiag('Condition is null', "The value of the 'if' clause must not be null.", e.condExpr.range));
        return ok(DYNAMIC, diags);
      }
      const b = convert(r.value, T.bool);
      if ('error' in b) {
        diags.push(errorDiag("Invalid 'for' condition", `The 'if' clause value is invalid: ${b.message}.`, e.condExpr.range));
        return ok(DYNAMIC, diags);
      }
      if (hasErrors(r.diagnostics)) return ok(DYNAMIC, diags);
    }

    let known = true;
    let sensitive = c.sensitive;
    const tupleVals: Value[] = [];
    const objVals = new Map<string, Value>();
    const groups = new Map<string, Value[]>();
    for (const [k, v] of iterationPairs(c.unmark(), e.keyVar !== undefined)) {
      const child = bind(k, v);
      if (e.condExpr) {
        const r = this.eval(e.condExpr, child);
        diags.push(...r.diagnostics);
        if (r.value.isNull) {
          if (known) diags.push(errorDiag("Invalid 'for' condition", "The value of the 'if' clause must not be null.", e.condExpr.range));
          known = false;
          continue;
        }
        if (r.value.unknown) {
          known = false;
          continue;
        }
        const b = convert(r.value, T.bool);
        if ('error' in b) {
          if (known) diags.push(errorDiag("Invalid 'for' condition", `The 'if' clause value is invalid: ${b.message}.`, e.condExpr.range));
          known = false;
          continue;
        }
        sensitive ||= b.value.sensitive;
        if (!b.value.unmark().asBool()) continue;
      }
      if (!e.keyExpr) {
        const r = this.eval(e.valExpr, child);
        diags.push(...r.diagnostics);
        tupleVals.push(r.value);
        continue;
      }
      const kr = this.eval(e.keyExpr, child);
      diags.push(...kr.diagnostics);
      if (kr.value.isNull) {
        if (known) diags.push(errorDiag('Invalid object key', "Key expression in 'for' expression must not produce a null value.", e.keyExpr.range));
        known = false;
        continue;
      }
      if (kr.value.unknown) {
        known = false;
        continue;
      }
      const ks = convert(kr.value, T.string);
      if ('error' in ks) {
        if (known) diags.push(errorDiag('Invalid object key', `The key expression produced an invalid result: ${ks.message}.`, e.keyExpr.range));
        known = false;
        continue;
      }
      sensitive ||= ks.value.sensitive;
      const key = ks.value.unmark().asString();
      const vr = this.eval(e.valExpr, child);
      diags.push(...vr.diagnostics);
      if (e.group) {
        const g = groups.get(key);
        if (g) g.push(vr.value);
        else groups.set(key, [vr.value]);
      } else if (objVals.has(key)) {
        diags.push(
          errorDiag(
            'Duplicate object key',
            `Two different items produced the key ${JSON.stringify(key)} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.`,
            e.keyExpr.range,
          ),
        );
      } else objVals.set(key, vr.value);
    }
    if (!known) return ok(DYNAMIC, diags);
    if (!e.keyExpr) return ok(Value.tuple(tupleVals).markSensitive(sensitive), diags);
    if (e.group) for (const [k, g] of groups) objVals.set(k, Value.tuple(g));
    return ok(Value.object(objVals).markSensitive(sensitive), diags);
  }

  private splat(e: ast.SplatExpr, ctx: EvalContext | null): R {
    const src = this.eval(e.source, ctx);
    const diags = [...src.diagnostics];
    if (hasErrors(src.diagnostics)) return ok(DYNAMIC, diags);
    let sv = src.value;
    const autoUpgrade = !sv.isSequence;
    if (sv.isNull) {
      if (autoUpgrade) return ok(Value.tuple([]), diags);
      diags.push(errorDiag('Splat of null value', 'Splat expressions (with the * symbol) cannot be applied to null sequences.', e.source.range));
      return ok(DYNAMIC, diags);
    }
    if (sv.type.kind === 'dynamic') return ok(DYNAMIC, diags);
    let upgradedUnknown = false;
    if (autoUpgrade) {
      upgradedUnknown = sv.unknown;
      sv = Value.tuple([sv]);
    }
    const eachWith = (item: Value): R => {
      this.anon.set(e.item, item);
      try {
        return this.eval(e.each, ctx);
      } finally {
        this.anon.delete(e.item);
      }
    };
    const resultType = (): Type => {
      const st = sv.type;
      if (st.kind === 'list' || st.kind === 'set') return T.list(eachWith(Value.unknown(st.elem)).value.type);
      if (st.kind === 'tuple') return T.tuple(st.elems.map((t) => eachWith(Value.unknown(t)).value.type));
      return T.dynamic;
    };
    if (sv.unknown) return ok(Value.unknown(resultType()).markSensitive(sv.sensitive), diags);
    const vals: Value[] = [];
    let known = true;
    for (const item of sv.unmark().elements()) {
      const r = eachWith(item);
      diags.push(...r.diagnostics);
      if (hasErrors(r.diagnostics)) known = false;
      vals.push(r.value);
    }
    if (upgradedUnknown) return ok(DYNAMIC, diags);
    if (!known) return ok(Value.unknown(resultType()), diags);
    const marks = sv.sensitive;
    if (sv.type.kind === 'list' || sv.type.kind === 'set') {
      if (vals.length === 0) {
        const rt = resultType();
        return ok(Value.list([], rt.kind === 'list' ? rt.elem : T.dynamic), diags);
      }
      const ut = unifyTypes(vals.map((v) => v.type));
      if (ut && vals.every((v) => typeEquals(v.type, ut))) return ok(Value.list(vals, ut).markSensitive(marks), diags);
      return ok(Value.tuple(vals).markSensitive(marks), diags);
    }
    return ok(Value.tuple(vals).markSensitive(marks), diags);
  }

  // ---- JSON syntax ------------------------------------------------------------------------------

  /** Evaluates a JSON value per HCL's JSON spec: strings are templates, arrays tuples, objects
   * objects whose keys are templates too. */
  private json(v: ast.JsonValue, ctx: EvalContext | null): R {
    switch (v.kind) {
      case 'string':
        return this.jsonString(v.value, v.range, ctx);
      case 'number':
        return ok(Value.number(v.text));
      case 'bool':
        return ok(Value.bool(v.value));
      case 'null':
        return ok(Value.null());
      case 'array': {
        const diags: Diagnostic[] = [];
        const vals = v.items.map((i) => {
          const r = this.json(i, ctx);
          diags.push(...r.diagnostics);
          return r.value;
        });
        return ok(Value.tuple(vals), diags);
      }
      case 'object': {
        const diags: Diagnostic[] = [];
        const attrs = new Map<string, Value>();
        const ranges = new Map<string, Range>();
        let known = true;
        for (const prop of v.props) {
          const name = this.jsonString(prop.name, prop.nameRange, ctx);
          const val = this.json(prop.value, ctx);
          diags.push(...name.diagnostics, ...val.diagnostics);
          const ns = convert(name.value, T.string);
          if ('error' in ns) {
            diags.push(errorDiag('Invalid object key expression', `Cannot use this expression as an object key: ${ns.message}.`, prop.nameRange));
            continue;
          }
          if (ns.value.isNull) {
            diags.push(errorDiag('Invalid object key expression', 'Cannot use null value as an object key.', prop.nameRange));
            continue;
          }
          if (ns.value.unknown) {
            known = false;
            continue;
          }
          const key = ns.value.unmark().asString();
          const prev = ranges.get(key);
          if (prev) {
            diags.push(errorDiag('Duplicate object attribute', `An attribute named ${JSON.stringify(key)} was already defined at ${rangeString(prev)}.`, prop.nameRange));
            continue;
          }
          attrs.set(key, val.value);
          ranges.set(key, prop.nameRange);
        }
        if (!known) return ok(DYNAMIC, diags);
        return ok(Value.object(attrs), diags);
      }
    }
  }

  private jsonString(text: string, range: Range, ctx: EvalContext | null): R {
    if (!ctx) return ok(Value.string(text));
    const start = { line: range.start.line, column: range.start.column + 1, byte: range.start.byte + 1 };
    const parsed = parseTemplate(text, range.filename, start);
    if (hasErrors(parsed.diagnostics)) return ok(DYNAMIC, parsed.diagnostics);
    const r = this.eval(parsed.expr, ctx);
    return ok(r.value, [...parsed.diagnostics, ...r.diagnostics]);
  }
}

/** HCL's `ExprAsKeyword`: the bare name an expression is written as (`foo`, `null`, `true`). */
export function keywordOf(e: ast.Expression): string | undefined {
  if (e.kind === 'scopeTraversal' && e.traversal.length === 0) return e.root;
  if (e.kind === 'literal') {
    if (e.value.type === 'null') return 'null';
    if (e.value.type === 'bool') return e.value.value ? 'true' : 'false';
  }
  return undefined;
}

function shortCircuit(op: '&&' | '||', a: Value, b: Value, ld: Diagnostic[], rd: Diagnostic[]): R | undefined {
  const decisive = op === '||';
  const isKnownBool = (v: Value, want: boolean): boolean => !v.unknown && !v.isNull && v.raw === want;
  if (a.unknown && b.unknown) return hasErrors(ld) ? undefined : ok(Value.unknown(T.bool), ld);
  if (isKnownBool(a, decisive)) return ok(Value.bool(decisive), ld);
  if (isKnownBool(b, decisive)) return ok(Value.bool(decisive), rd);
  if (a.unknown && isKnownBool(b, !decisive)) return ok(Value.unknown(T.bool), ld);
  if (b.unknown && isKnownBool(a, !decisive)) return ok(Value.unknown(T.bool), rd);
  return undefined;
}

/** HCL's description of why two conditional branches cannot be unified. */
function describeConditionalTypeMismatch(t: Type, f: Type): string {
  if (t.kind === 'object' && f.kind === 'object') {
    const ta = [...t.attrs.keys()].sort();
    const fa = [...f.attrs.keys()].sort();
    for (const name of ta) {
      const fat = f.attrs.get(name);
      if (!fat) return `The 'true' value includes object attribute ${JSON.stringify(name)}, which is absent in the 'false' value`;
      const tat = t.attrs.get(name)!;
      if (!typeEquals(tat, fat)) return `Type mismatch for object attribute ${JSON.stringify(name)}: ${describeConditionalTypeMismatch(tat, fat)}`;
    }
    for (const name of fa) {
      if (!t.attrs.has(name)) return `The 'false' value includes object attribute ${JSON.stringify(name)}, which is absent in the 'true' value`;
    }
  } else if (t.kind === 'tuple' && f.kind === 'tuple') {
    if (t.elems.length !== f.elems.length) return `The 'true' tuple has length ${t.elems.length}, but the 'false' tuple has length ${f.elems.length}`;
    for (let i = 0; i < t.elems.length; i++) {
      if (!typeEquals(t.elems[i]!, f.elems[i]!)) return `Type mismatch for tuple element ${i}: ${describeConditionalTypeMismatch(t.elems[i]!, f.elems[i]!)}`;
    }
  } else if ((t.kind === 'list' || t.kind === 'set' || t.kind === 'map') && t.kind === f.kind) {
    const te = t.elem;
    const fe = (f as { elem: Type }).elem;
    if ((te.kind === 'object' && fe.kind === 'object') || (te.kind === 'tuple' && fe.kind === 'tuple')) {
      return `Mismatched ${t.kind} element types: ${describeConditionalTypeMismatch(te, fe)}`;
    }
  }
  const tn = friendlyTypeName(t);
  const fn = friendlyTypeName(f);
  if (tn === fn) return "At least one deeply-nested attribute or element is not compatible across both the 'true' and the 'false' value";
  return `The 'true' value is ${tn}, but the 'false' value is ${fn}`;
}
