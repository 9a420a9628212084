/**
 * The shape of a template function (cty's function.Function), shared by the function library
 * (src/functions) and the evaluator (src/hcl/eval.ts).
 *
 * Calling convention (implemented once, in src/functions/call.ts):
 * 1. Arguments are counted against `params` / `varParam` ("Not enough function arguments",
 *    "Too many function arguments").
 * 2. Each argument is converted to its parameter's type (unless that type is `dynamic`); a failed
 *    conversion is an error naming the argument ("Invalid value for "str" parameter: string required.").
 * 3. A null argument to a parameter without `allowNull` is an error ("argument must not be null").
 * 4. An unknown argument to a parameter without `allowUnknown` makes the result unknown
 *    (of `returnType` when given, else dynamic) without calling `impl`.
 * 5. A sensitive argument to a parameter without `allowMarked` is unmarked before the call and the
 *    result is marked sensitive.
 * 6. `impl` throws `FunctionArgError` for a fault in one argument, `FunctionError` otherwise.
 *    Their `message` is cty's bare error text ("string required", "invalid CIDR expression: …");
 *    `functionCallDiagnostic` (call.ts) turns a thrown error into the summary and detail HCL prints
 *    ("Invalid function argument" / `Invalid value for "str" parameter: string required.`).
 *
 * Lazy functions (`can`, `try`, `convert`): a FunctionDef with `lazyImpl` receives its arguments
 * unevaluated, as `LazyArg`s, because HCL passes them as expression closures (or, for `convert`'s
 * second argument, as a type constraint). The evaluator must not evaluate the argument
 * expressions of such a call itself; it calls `callLazyFunction(def, lazyArgs, ctx)` instead of
 * `callFunction`. `params`/`varParam` still describe the arguments (for counting and messages);
 * `...` expansion is not allowed on a lazy call.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { Type, Value } from '../values/value.js';

export interface Param {
  name: string;
  type: Type;
  allowNull?: boolean;
  allowUnknown?: boolean;
  /** The function handles sensitive marks itself (e.g. `sensitive`, `nonsensitive`). */
  allowMarked?: boolean;
}

export interface FunctionCallContext {
  /** The template's folder (`path.root`). As in Packer (`Functions(basedir)`), `file`,
   * `fileexists`, `fileset` and `templatefile` resolve relative paths against it; `abspath` and
   * `filebase64` resolve them against `cwd`. A relative `baseDir` is itself relative to `cwd`. */
  baseDir: string;
  cwd: string;
  /** Called with the absolute path of every file a function reads (`file`, `templatefile`, …),
   * so that build fingerprints can include their content. */
  onFileRead?(path: string): void;
  /** False outside variable defaults: `env()` is only allowed there, as in Packer. */
  allowEnv?: boolean;
  env?: NodeJS.ProcessEnv;
  /**
   * Parses `source` as an HCL template (named `filename` in messages) and evaluates it with only
   * `vars` as variables and every function except `templatefile` (whose call inside a template is
   * the error "cannot recursively call templatefile from inside templatefile call"). Set by the
   * evaluator; used by `templatefile`. Throws `FunctionArgError(1, …)` for a reference to a name
   * not in `vars` (`vars map does not contain key "x", referenced at FILE:L,C-C`) and
   * `FunctionError` with the diagnostics' text for other template errors.
   */
  renderTemplate?(source: string, filename: string, vars: ReadonlyMap<string, Value>): Value;
}

export interface FunctionDef {
  params: readonly Param[];
  varParam?: Param;
  /** Static result type when known (lets unknown arguments produce a typed unknown). */
  returnType?: Type;
  description?: string;
  impl(args: readonly Value[], ctx: FunctionCallContext): Value;
  /** Present on lazy functions only (see the header); `impl` is then never called. */
  lazyImpl?(args: readonly LazyArg[], ctx: FunctionCallContext): Value;
}

/** One unevaluated argument of a lazy function call, built by the evaluator. */
export interface LazyArg {
  /** Evaluates the argument expression in the call's scope. Never throws for user errors. */
  evaluate(): { value: Value; diagnostics: Diagnostic[] };
  /** True when a variable or attribute the expression refers to is unknown, so the expression's
   * success cannot be decided yet (HCL's `dependsOnUnknowns`). */
  dependsOnUnknowns(): boolean;
  /** Decodes the expression as a type constraint (`string`, `list(number)`, `object({a=bool})`,
   * `any`), as a variable's `type` is decoded. */
  typeConstraint(): { type: Type; diagnostics: Diagnostic[] };
}

export type FunctionTable = ReadonlyMap<string, FunctionDef>;

/** An error in one argument of a function call; the evaluator points at that argument. */
export class FunctionArgError extends Error {
  readonly argIndex: number;
  constructor(argIndex: number, message: string) {
    super(message);
    this.name = 'FunctionArgError';
    this.argIndex = argIndex;
  }
}

/** Too few or too many arguments; `summary` is HCL's ("Not enough function arguments"). */
export class FunctionArityError extends Error {
  readonly summary: string;
  constructor(summary: string, message: string) {
    super(message);
    this.name = 'FunctionArityError';
    this.summary = summary;
  }
}

/** Thrown by a lazy function (`convert`) when evaluating argument `argIndex` failed: the
 * argument's own diagnostics, reported as they are (see `functionCallProblem`). */
export class LazyArgDiagnostics extends Error {
  readonly argIndex: number;
  readonly diagnostics: Diagnostic[];
  constructor(argIndex: number, diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.summary).join('; '));
    this.name = 'LazyArgDiagnostics';
    this.argIndex = argIndex;
    this.diagnostics = diagnostics;
  }
}

/** An error in a function call as a whole. */
export class FunctionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FunctionError';
  }
}
