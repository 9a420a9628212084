/**
 * The calling convention of template functions (cty's `function.Call` plus the argument handling
 * HCL's FunctionCallExpr does before it), implemented once for every function.
 * See src/functions/types.ts for the contract.
 */
import { convert } from '../values/convert.js';
import { T, Value, type Type } from '../values/value.js';
import {
  FunctionArgError,
  FunctionArityError,
  FunctionError,
  LazyArgDiagnostics,
  type FunctionCallContext,
  type FunctionDef,
  type LazyArg,
  type Param,
} from './types.js';

/** The parameter that receives argument `index`, or undefined past the end. */
export function paramAt(def: FunctionDef, index: number): Param | undefined {
  return index < def.params.length ? def.params[index] : def.varParam;
}

function checkArity(name: string, def: FunctionDef, count: number): void {
  if (count < def.params.length) {
    const missing = def.params[count]!;
    throw new FunctionArityError(
      'Not enough function arguments',
      `Function "${name}" expects ${def.params.length} argument(s). Missing value for "${missing.name}".`,
    );
  }
  if (!def.varParam && count > def.params.length) {
    throw new FunctionArityError('Too many function arguments', `Function "${name}" expects only ${def.params.length} argument(s).`);
  }
}

/** Removes sensitive marks at every depth (for functions that do not handle marks themselves). */
export function unmarkDeep(v: Value): Value {
  if (!v.containsSensitive()) return v;
  const top = v.unmark();
  if (Array.isArray(top.raw)) return Value.ofType(top.type, (top.raw as Value[]).map(unmarkDeep));
  if (top.raw instanceof Map) return Value.ofType(top.type, new Map([...top.raw].map(([k, e]) => [k, unmarkDeep(e)])));
  return top;
}

/** Converts `v` to `type`, throwing a `FunctionArgError` for argument `index` when it cannot. */
export function convertArg(v: Value, type: Type, index: number): Value {
  if (type.kind === 'dynamic') return v;
  const r = convert(v, type);
  if ('message' in r) throw new FunctionArgError(index, r.message);
  return r.value;
}

/**
 * Calls `def` with evaluated arguments (after `...` expansion). `name` is used in arity messages.
 * Throws FunctionArityError, FunctionArgError or FunctionError.
 */
export function callFunction(def: FunctionDef, args: readonly Value[], ctx: FunctionCallContext, name = 'function'): Value {
  if (def.lazyImpl) throw new FunctionError(`the function "${name}" takes unevaluated arguments and cannot be called with values`);
  checkArity(name, def, args.length);
  const prepared: Value[] = [];
  let sensitive = false;
  let unknown = false;
  for (let i = 0; i < args.length; i++) {
    const param = paramAt(def, i)!;
    let v = convertArg(args[i]!, param.type, i);
    if (!param.allowMarked && v.containsSensitive()) {
      sensitive = true;
      v = unmarkDeep(v);
    }
    if (v.isNull && !param.allowNull) throw new FunctionArgError(i, 'argument must not be null');
    if (v.unknown && !param.allowUnknown) unknown = true;
    prepared.push(v);
  }
  if (unknown) return Value.unknown(def.returnType ?? T.dynamic).markSensitive(sensitive);
  return def.impl(prepared, ctx).markSensitive(sensitive);
}

/** Calls a lazy function (`can`, `try`, `convert`) with unevaluated arguments. */
export function callLazyFunction(def: FunctionDef, args: readonly LazyArg[], ctx: FunctionCallContext, name = 'function'): Value {
  if (!def.lazyImpl) throw new FunctionError(`the function "${name}" is not lazy`);
  checkArity(name, def, args.length);
  return def.lazyImpl(args, ctx);
}

/** What HCL prints for a failed call: a summary, a detail, and the argument to point at. */
export interface FunctionCallProblem {
  summary: string;
  detail: string;
  argIndex?: number;
}

/** Turns an error thrown by `callFunction` into HCL's diagnostic text; undefined for errors that
 * are not function errors (bugs, which the caller should rethrow). */
export function functionCallProblem(name: string, def: FunctionDef, err: unknown): FunctionCallProblem | undefined {
  if (err instanceof FunctionArityError) return { summary: err.summary, detail: err.message };
  if (err instanceof FunctionArgError) {
    const param = paramAt(def, err.argIndex);
    return {
      summary: 'Invalid function argument',
      detail: `Invalid value for "${param?.name ?? `argument ${err.argIndex + 1}`}" parameter: ${err.message}.`,
      argIndex: err.argIndex,
    };
  }
  if (err instanceof LazyArgDiagnostics) {
    const first = err.diagnostics[0];
    return { summary: first?.summary ?? 'Invalid function argument', detail: first?.detail ?? err.message, argIndex: err.argIndex };
  }
  if (err instanceof FunctionError) return { summary: 'Error in function call', detail: `Call to function "${name}" failed: ${err.message}.` };
  return undefined;
}
