/**
 * Type conversion functions: `can`, `try` (HCL's tryfunc) and `convert` (HCL's typeexpr). They
 * are lazy (see types.ts): their arguments arrive as unevaluated expressions.
 */
import { convert as convertValue } from '../values/convert.js';
import { rangeString, type Diagnostic } from '../diagnostics.js';
import { T, Value } from '../values/value.js';
import { define, param } from './support.js';
import { FunctionArgError, FunctionError, LazyArgDiagnostics } from './types.js';

const never = (): Value => {
  throw new FunctionError('this function takes unevaluated arguments');
};

export const can = define({
  params: [param('expression', T.dynamic, { allowNull: true, allowUnknown: true })],
  returnType: T.bool,
  impl: never,
  lazyImpl: ([arg]) => {
    if (arg!.dependsOnUnknowns()) return Value.unknown(T.bool);
    const { diagnostics } = arg!.evaluate();
    return Value.bool(!diagnostics.some((d) => d.severity === 'error'));
  },
});

function describe(d: Diagnostic): string {
  const at = d.subject ? ` (at ${rangeString(d.subject)})` : '';
  return `- ${d.summary}${at}\n  ${d.detail ?? ''}\n`;
}

export const try_ = define({
  params: [],
  varParam: param('expressions', T.dynamic, { allowNull: true, allowUnknown: true }),
  impl: never,
  lazyImpl: (args) => {
    if (args.length === 0) throw new FunctionError('at least one argument is required');
    const errors: Diagnostic[] = [];
    for (const arg of args) {
      if (arg.dependsOnUnknowns()) return Value.unknown(T.dynamic);
      const { value, diagnostics } = arg.evaluate();
      const errs = diagnostics.filter((d) => d.severity === 'error');
      if (errs.length === 0) return value;
      errors.push(...errs);
    }
    throw new FunctionError(`no expression succeeded:\n${errors.map(describe).join('')}\nAt least one expression must produce a successful result`);
  },
});

export const convert = define({
  params: [param('value', T.dynamic, { allowNull: true, allowUnknown: true, allowMarked: true }), param('type', T.dynamic)],
  impl: never,
  lazyImpl: ([valueArg, typeArg]) => {
    const { type, diagnostics: typeDiags } = typeArg!.typeConstraint();
    if (typeDiags.some((d) => d.severity === 'error')) throw new LazyArgDiagnostics(1, typeDiags.filter((d) => d.severity === 'error'));
    const { value, diagnostics } = valueArg!.evaluate();
    if (diagnostics.some((d) => d.severity === 'error')) throw new LazyArgDiagnostics(0, diagnostics.filter((d) => d.severity === 'error'));
    const r = convertValue(value, type);
    if ('message' in r) throw new FunctionArgError(0, r.message);
    return r.value;
  },
});
