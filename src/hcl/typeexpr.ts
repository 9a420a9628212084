/**
 * Type constraint expressions (a variable's `type`, `convert`'s second argument), as HCL's
 * `typeexpr.TypeConstraintWithDefaults` reads them.
 *
 * Contracts:
 * - Accepted: `string`, `number`, `bool`, `any`, `list(T)`, `set(T)`, `map(T)`, `tuple([T, …])`,
 *   `object({name = T, …})`, and inside object attributes `optional(T)` / `optional(T, default)`.
 *   The default is evaluated without variables or functions and converted to `T`. With
 *   `withDefaults: false` (HCL's `TypeConstraint`, what `convert` reads) a default is an error.
 * - In JSON syntax the constraint is a string holding the native expression (`"list(string)"`).
 * - Problems are diagnostics with HCL's messages ("Invalid type specification", …); the type is
 *   then `dynamic`.
 */
import { errorDiag, rangeBetween, type Diagnostic, type Range } from '../diagnostics.js';
import type * as ast from './ast.js';
import { evaluate, keywordOf } from './eval.js';
import { parseExpression } from './parser.js';
import { convert } from '../values/convert.js';
import { T, type Type, type Value } from '../values/value.js';

export interface TypeConstraintResult {
  type: Type;
  diagnostics: Diagnostic[];
}

const INVALID = 'Invalid type specification';
const NOT_A_TYPE = 'A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).';

/** Reads a type constraint expression (see the module contract). */
export function parseTypeConstraint(expr: ast.Expression, options: { withDefaults?: boolean } = {}): TypeConstraintResult {
  const diagnostics: Diagnostic[] = [];
  const type = getType(expr, diagnostics, options.withDefaults ?? true);
  return { type, diagnostics };
}

function getType(expr: ast.Expression, diags: Diagnostic[], withDefaults: boolean): Type {
  if (expr.kind === 'json') return getJsonType(expr, diags, withDefaults);
  const kw = keywordOf(expr);
  if (kw !== undefined) return keywordType(kw, expr.range, diags);
  if (expr.kind !== 'call') {
    diags.push(
      errorDiag(
        INVALID,
        NOT_A_TYPE,
        expr.range,
      ),
    );
    return T.dynamic;
  }
  const argsRange = rangeBetween(expr.openParenRange, expr.closeParenRange);
  const name = expr.name;
  if (name === 'bool' || name === 'string' || name === 'number') {
    diags.push(errorDiag(INVALID, `Primitive type keyword "${name}" does not expect arguments.`, argsRange));
    return T.dynamic;
  }
  if (name === 'any') {
    diags.push(errorDiag(INVALID, `Type constraint keyword "${name}" does not expect arguments.`, argsRange));
    return T.dynamic;
  }
  if (expr.args.length !== 1 && ['list', 'set', 'map', 'object', 'tuple'].includes(name)) {
    const subject = expr.args.length > 1 ? rangeBetween(expr.args[1]!.range, expr.args[expr.args.length - 1]!.range) : argsRange;
    diags.push(errorDiag(INVALID, constructorArgMessage(name), subject));
    return T.dynamic;
  }
  switch (name) {
    case 'list':
      return T.list(getType(expr.args[0]!, diags, withDefaults));
    case 'set':
      return T.set(getType(expr.args[0]!, diags, withDefaults));
    case 'map':
      return T.map(getType(expr.args[0]!, diags, withDefaults));
    case 'tuple': {
      const arg = expr.args[0]!;
      if (arg.kind !== 'tuple') {
        diags.push(errorDiag(INVALID, 'Tuple type constructor requires a list of element types.', arg.range));
        return T.dynamic;
      }
      return T.tuple(arg.items.map((i) => getType(i, diags, withDefaults)));
    }
    case 'object':
      return objectType(expr.args[0]!, diags, withDefaults);
    case 'optional':
      diags.push(errorDiag(INVALID, 'Keyword "optional" is valid only as a modifier for object type attributes.', expr.nameRange));
      return T.dynamic;
    default:
      diags.push(errorDiag(INVALID, `Keyword "${name}" is not a valid type constructor.`, expr.range));
      return T.dynamic;
  }
}

function keywordType(kw: string, range: Range, diags: Diagnostic[]): Type {
  switch (kw) {
    case 'bool':
      return T.bool;
    case 'string':
      return T.string;
    case 'number':
      return T.number;
    case 'any':
      return T.dynamic;
    case 'list':
    case 'map':
    case 'set':
    case 'object':
    case 'tuple':
      diags.push(errorDiag(INVALID, constructorArgMessage(kw), range));
      return T.dynamic;
    default:
      diags.push(errorDiag(INVALID, `The keyword "${kw}" is not a valid type specification.`, range));
      return T.dynamic;
  }
}

function constructorArgMessage(name: string): string {
  if (name === 'object') return 'The object type constructor requires one argument specifying the attribute types and values as a map.';
  if (name === 'tuple') return 'The tuple type constructor requires one argument specifying the element types as a list.';
  return `The ${name} type constructor requires one argument specifying the element type.`;
}

function objectType(arg: ast.Expression, diags: Diagnostic[], withDefaults: boolean): Type {
  if (arg.kind !== 'object') {
    diags.push(
      errorDiag(INVALID, 'Object type constructor requires a map whose keys are attribute names and whose values are the corresponding attribute types.', arg.range),
    );
    return T.dynamic;
  }
  const attrs = new Map<string, Type>();
  const optional = new Set<string>();
  const defaults = new Map<string, Value>();
  for (const item of arg.items) {
    const key = item.key.kind === 'objectKey' && !item.key.forceNonLiteral ? keywordOf(item.key.wrapped) : keywordOf(item.key);
    if (key === undefined) {
      diags.push(errorDiag(INVALID, 'Object constructor map keys must be attribute names.', item.key.range));
      continue;
    }
    let atyExpr = item.value;
    let defaultExpr: ast.Expression | undefined;
    if (atyExpr.kind === 'call' && atyExpr.name === 'optional') {
      const call = atyExpr;
      const argsRange = rangeBetween(call.openParenRange, call.closeParenRange);
      if (call.args.length < 1) {
        diags.push(errorDiag(INVALID, 'Optional attribute modifier requires the attribute type as its argument.', argsRange));
        continue;
      }
      if (!withDefaults && call.args.length > 1) {
        // HCL's TypeConstraint (what `convert` reads): defaults exist only in variable types.
        diags.push(errorDiag(INVALID, 'Optional attribute modifier expects only one argument: the attribute type.', argsRange));
      } else if (call.args.length > 2) {
        diags.push(errorDiag(INVALID, 'Optional attribute modifier expects at most two arguments: the attribute type, and a default value.', argsRange));
      } else {
        optional.add(key);
        defaultExpr = call.args[1];
      }
      atyExpr = call.args[0]!;
    }
    const aty = getType(atyExpr, diags, withDefaults);
    attrs.set(key, aty);
    if (defaultExpr) {
      const d = evaluate(defaultExpr, null);
      diags.push(...d.diagnostics);
      if (!d.diagnostics.some((x) => x.severity === 'error')) {
        const c = convert(d.value, aty);
        if ('error' in c) {
          diags.push(
            errorDiag('Invalid default value for optional attribute', `This default value is not compatible with the attribute's type constraint: ${c.error}.`, defaultExpr.range),
          );
        } else {
          defaults.set(key, c.value);
        }
      }
    }
  }
  const t: Type = { kind: 'object', attrs, ...(optional.size > 0 ? { optional } : {}), ...(defaults.size > 0 ? { defaults } : {}) };
  return t;
}

/** JSON syntax: the constraint is a string holding a native-syntax type expression. */
function getJsonType(expr: ast.JsonExpression, diags: Diagnostic[], withDefaults: boolean): Type {
  const v = expr.value;
  if (v.kind !== 'string') {
    diags.push(
      errorDiag(
        INVALID,
        NOT_A_TYPE,
        expr.range,
      ),
    );
    return T.dynamic;
  }
  const start = { line: v.range.start.line, column: v.range.start.column + 1, byte: v.range.start.byte + 1 };
  const parsed = parseExpression(v.value, v.range.filename, start);
  if (parsed.diagnostics.some((d) => d.severity === 'error')) {
    diags.push(...parsed.diagnostics);
    return T.dynamic;
  }
  return getType(parsed.expr, diags, withDefaults);
}
