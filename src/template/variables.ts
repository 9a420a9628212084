/**
 * Input variables: the `variable` and legacy `variables` blocks, and their values.
 *
 * Precedence (later wins), as Packer documents it: the default, then `PKR_VAR_<name>` from the
 * environment, then `*.auto.pkrvars.hcl|json` files in lexical order, then `-var` and `-var-file`
 * in command-line order. Every value is converted to the declared type (a `"3"` for a `number`
 * converts, a list for a `string` does not). A value given as text (`-var`, `PKR_VAR_`) is taken
 * literally for `string`, `number` and untyped variables, and parsed as an HCL expression
 * otherwise. Validation rules run on the final value.
 */
import { errorDiag, rangeString, warningDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { Block, Expression } from '../hcl/ast.js';
import { bodyContent, bodyJustAttributes, bodyPartialContent, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { parseExpression } from '../hcl/parser.js';
import { variablesOf } from '../hcl/traversals.js';
import { convert } from '../values/convert.js';
import { parseTypeConstraint } from '../hcl/typeexpr.js';
import { T, Value } from '../values/value.js';
import type { File } from '../hcl/ast.js';
import type { VariableDef } from './model.js';
import { defRange, placeString } from './ranges.js';

export interface ValidationRule {
  condition: Expression;
  /** A literal string, as in Packer: one or more sentences. */
  errorMessage: string;
  range: Range;
}

/** A declared variable while loading: its definition plus what is needed to finish it. */
export interface DeclaredVariable {
  def: VariableDef;
  /** True when `type` was given (else the type is the default's, or any). */
  typed: boolean;
  validations: ValidationRule[];
  /** Where the final value was written, for diagnostics about it. */
  valueRange?: Range;
}

const variableSchema: BodySchema = {
  attributes: [{ name: 'description' }, { name: 'type' }, { name: 'default' }, { name: 'sensitive' }],
  blocks: [{ type: 'validation', labelNames: [] }],
};

const validationSchema: BodySchema = {
  attributes: [
    { name: 'condition', required: true },
    { name: 'error_message', required: true },
  ],
  blocks: [],
};

function duplicate(name: string, existing: DeclaredVariable, subject: Range): Diagnostic {
  return errorDiag('Duplicate variable', `Duplicate ${name} variable definition found; it was first declared at ${placeString(existing.def.range)}.`, subject);
}

function staticString(expr: Expression, ctx: EvalContext, what: string, diags: Diagnostic[]): string | undefined {
  const r = evaluate(expr, ctx);
  diags.push(...r.diagnostics);
  if (r.diagnostics.some((d) => d.severity === 'error')) return undefined;
  const c = convert(r.value, T.string);
  if ('message' in c || c.value.isNull || c.value.unknown) {
    diags.push(errorDiag(`Invalid ${what}`, `The ${what} must be a string.`, expr.range));
    return undefined;
  }
  return c.value.asString();
}

function staticBool(expr: Expression, ctx: EvalContext, what: string, diags: Diagnostic[]): boolean {
  const r = evaluate(expr, ctx);
  diags.push(...r.diagnostics);
  const c = convert(r.value, T.bool);
  if ('message' in c || c.value.isNull || c.value.unknown) {
    if (!r.diagnostics.some((d) => d.severity === 'error')) diags.push(errorDiag('Unsuitable value type', `Unsuitable value for ${what}: a bool is required.`, expr.range));
    return false;
  }
  return c.value.asBool();
}

/** Decodes a `variable "name" { … }` block. `ctx` is the defaults context (functions, env). */
export function decodeVariableBlock(block: Block, ctx: EvalContext, declared: Map<string, DeclaredVariable>): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const name = block.labels[0] ?? '';
  const range = defRange(block);
  const existing = declared.get(name);
  if (existing) return [duplicate(name, existing, range)];
  const { content, diagnostics } = bodyContent(block.body, variableSchema);
  diags.push(...diagnostics);
  const def: VariableDef = { name, type: T.dynamic, sensitive: false, range };
  const v: DeclaredVariable = { def, typed: false, validations: [] };

  const desc = content.attributes.get('description');
  if (desc) def.description = staticString(desc.expr, ctx, 'description', diags);
  const sens = content.attributes.get('sensitive');
  if (sens) def.sensitive = staticBool(sens.expr, ctx, 'sensitive', diags);
  const type = content.attributes.get('type');
  if (type) {
    const t = parseTypeConstraint(type.expr);
    diags.push(...t.diagnostics);
    if (!t.diagnostics.some((d) => d.severity === 'error')) {
      def.type = t.type;
      v.typed = true;
    }
  }
  const dflt = content.attributes.get('default');
  if (dflt) {
    const r = evaluate(dflt.expr, ctx);
    diags.push(...r.diagnostics);
    if (r.diagnostics.some((d) => d.severity === 'error')) {
      def.default = Value.unknown(def.type); // reported; not also "unset"
    } else {
      def.default = convertTo(r.value, v, dflt.expr.range, 'Invalid default value for variable', "This default value is not compatible with the variable's type constraint", diags);
      if (!v.typed) def.type = def.default.type;
    }
    v.valueRange = dflt.expr.range;
  }
  for (const vb of content.blocks) {
    const vc = bodyContent(vb.body, validationSchema);
    diags.push(...vc.diagnostics);
    const condition = vc.content.attributes.get('condition');
    const errorMessage = vc.content.attributes.get('error_message');
    if (!condition || !errorMessage) continue;
    const refs = variablesOf(condition.expr);
    if (!refs.some((ref) => ref.root === 'var' && ref.steps[0] === name)) {
      diags.push(
        errorDiag('Invalid variable validation condition', `The condition for variable "${name}" must refer to var.${name} in order to test incoming values.`, condition.expr.range),
      );
      continue;
    }
    const m = evaluate(errorMessage.expr, null);
    diags.push(...m.diagnostics);
    if (m.diagnostics.some((d) => d.severity === 'error')) continue;
    const message = typeof m.value.raw === 'string' ? m.value.raw : undefined;
    if (message === undefined || !looksLikeSentences(message)) {
      diags.push(
        errorDiag(
          'Invalid validation error message',
          'Validation error message must be at least one full sentence starting with an uppercase letter ( if the alphabet permits it ) and ending with a period or question mark.',
          errorMessage.expr.range,
        ),
      );
      continue;
    }
    v.validations.push({ condition: condition.expr, errorMessage: message, range: defRange(vb) });
  }
  def.validationCount = v.validations.length;
  declared.set(name, v);
  return diags;
}

/** Terraform's rule for validation messages, which Packer keeps: a sentence that starts with an
 * upper-case letter (when it starts with a letter) and ends with ".", "?" or "!". */
function looksLikeSentences(s: string): boolean {
  const chars = [...s];
  if (chars.length === 0) return false;
  const first = chars[0]!;
  if (/\p{L}/u.test(first) && !/\p{Lu}/u.test(first)) return false;
  return ['.', '?', '!'].includes(chars[chars.length - 1]!);
}

/** Decodes a legacy `variables { name = default … }` block: untyped variables with defaults. */
export function decodeVariablesBlock(block: Block, ctx: EvalContext, declared: Map<string, DeclaredVariable>): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const { attributes, diagnostics } = bodyJustAttributes(block.body);
  diags.push(...diagnostics);
  for (const attr of attributes.values()) {
    const existing = declared.get(attr.name);
    if (existing) {
      diags.push(duplicate(attr.name, existing, attr.nameRange));
      continue;
    }
    const r = evaluate(attr.expr, ctx);
    diags.push(...r.diagnostics);
    if (r.diagnostics.some((d) => d.severity === 'error')) continue;
    declared.set(attr.name, {
      def: { name: attr.name, type: r.value.type, default: r.value, sensitive: false, range: attr.range },
      typed: false,
      validations: [],
    });
  }
  return diags;
}

/** Converts a given value to the variable's type. On failure the error is reported and the
 * result is unknown (as Packer does), so that the variable is not also reported as unset. */
function convertTo(value: Value, v: DeclaredVariable, subject: Range, summary: string, lead: string, diags: Diagnostic[]): Value {
  if (!v.typed) return value;
  const c = convert(value, v.def.type);
  if ('message' in c) {
    diags.push(errorDiag(summary, `${lead}: ${c.error}.`, subject));
    return Value.unknown(v.def.type);
  }
  return c.value;
}

/** A value given on the command line or in the environment, as text. */
function valueFromText(
  text: string,
  v: DeclaredVariable,
  fakeFilename: string,
  diags: Diagnostic[],
  texts: Map<string, string>,
): { value: Value; range?: Range } | undefined {
  const k = v.def.type.kind;
  if (k === 'string' || k === 'number' || k === 'dynamic') return { value: Value.string(text) };
  texts.set(fakeFilename, text);
  const p = parseExpression(text, fakeFilename);
  diags.push(...p.diagnostics);
  if (!p.expr || p.diagnostics.some((d) => d.severity === 'error')) return undefined;
  const r = evaluate(p.expr, null);
  diags.push(...r.diagnostics);
  if (r.diagnostics.some((d) => d.severity === 'error')) return undefined;
  return { value: r.value, range: p.expr.range };
}

/** Where values come from, in increasing precedence after defaults and the environment. */
export type ValueSource = { kind: 'var'; name: string; value: string } | { kind: 'file'; file: File; path: string };

const varDeclSchema: BodySchema = { attributes: [], blocks: [{ type: 'variable', labelNames: ['name'] }] };

/**
 * Applies values with Packer's precedence to the declared variables, then reports unset
 * variables and runs validation rules. The text of values parsed as expressions is added to
 * `texts` under their pseudo file names, so diagnostics can show it. `undeclared` says what a
 * var-file value for an undeclared variable is: a warning (as Packer), an error or nothing.
 *
 * The two lists follow Packer's phases: `assignment` holds what its parser reports while reading
 * values (bad values, undeclared `-var` names), which stops every command; `evaluation` holds
 * unset variables and failed validation rules, which Packer reports only when the template is
 * used (`inspect` shows the template anyway, unset values as `<unknown>`).
 * A `default = null` is a value (null), not an unset variable, as in Packer.
 */
export function collectVariableValues(
  declared: Map<string, DeclaredVariable>,
  env: NodeJS.ProcessEnv,
  sources: readonly ValueSource[],
  undeclared: 'warning' | 'error' | 'ignore',
  validationContext: (vars: Map<string, DeclaredVariable>) => EvalContext,
  texts: Map<string, string> = new Map(),
): { assignment: Diagnostic[]; evaluation: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  for (const v of declared.values()) {
    if (v.def.default !== undefined) {
      v.def.value = v.def.default;
      v.def.source = 'default';
    } else {
      v.valueRange = undefined;
    }
  }
  for (const [key, text] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!key.startsWith('PKR_VAR_') || text === undefined) continue;
    const name = key.slice('PKR_VAR_'.length);
    const v = declared.get(name);
    if (!v) continue;
    const got = valueFromText(text, v, `<value for var.${name} from env>`, diags, texts);
    if (!got) continue;
    const value = convertTo(got.value, v, got.range ?? v.def.range, 'Invalid value for variable', `The value for ${name} is not compatible with the variable's type constraint`, diags);
    setValue(v, value, 'env');
  }
  for (const src of sources) {
    if (src.kind === 'var') {
      const v = declared.get(src.name);
      if (!v) {
        diags.push(
          errorDiag(
            'Undefined -var variable',
            `A "${src.name}" variable was passed in the command line but was not found in known variables. ` +
              `To declare variable "${src.name}", place this block in one of your .pkr files, such as variables.pkr.hcl`,
          ),
        );
        continue;
      }
      const got = valueFromText(src.value, v, `<value for var.${src.name} from arguments>`, diags, texts);
      if (!got) continue;
      const value = convertTo(got.value, v, got.range ?? v.def.range, 'Invalid argument value for -var variable', `The received arg value for ${src.name} is not compatible with the variable's type constraint`, diags);
      setValue(v, value, 'cli');
      continue;
    }
    diags.push(...applyVarFile(src.file, src.path, declared, undeclared));
  }
  const evaluation: Diagnostic[] = [];
  for (const v of declared.values()) {
    if (v.def.value === undefined) {
      evaluation.push(
        errorDiag(
          `Unset variable "${v.def.name}"`,
          'A used variable must be set or have a default value; see https://developer.hashicorp.com/packer/docs/templates/hcl_templates/variables for details.',
          v.def.range,
        ),
      );
    }
  }
  const ctx = validationContext(declared);
  for (const v of declared.values()) evaluation.push(...runValidations(v, ctx));
  return { assignment: diags, evaluation };
}

function setValue(v: DeclaredVariable, value: Value, source: string, range?: Range): void {
  v.def.value = value;
  v.def.source = source;
  v.valueRange = range;
}

function applyVarFile(file: File, path: string, declared: Map<string, DeclaredVariable>, undeclared: 'warning' | 'error' | 'ignore'): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const probe = bodyPartialContent(file.body, varDeclSchema);
  for (const block of probe.content.blocks) {
    const name = block.labels[0] ?? '';
    diags.push(
      errorDiag(
        'Variable declaration in a .pkrvar file',
        `A .pkrvar file is used to assign values to variables that have already been declared in .pkr files, not to declare new variables. ` +
          `To declare variable "${name}", place this block in one of your .pkr files, such as variables.pkr.hcl\n\n` +
          `To set a value for this variable in ${file.filename}, use the definition syntax instead:\n    ${name} = <value>`,
        block.typeRange,
      ),
    );
  }
  if (diags.length > 0) return diags;
  const { attributes, diagnostics } = bodyJustAttributes(file.body);
  diags.push(...diagnostics);
  for (const attr of attributes.values()) {
    const v = declared.get(attr.name);
    if (!v) {
      if (undeclared === 'ignore') continue;
      const make = undeclared === 'error' ? errorDiag : warningDiag;
      diags.push(
        make(
          'Undefined variable',
          `A "${attr.name}" variable was set but was not found in known variables. To declare variable "${attr.name}", ` +
            'place this block in one of your .pkr files, such as variables.pkr.hcl',
          attr.nameRange,
        ),
      );
      continue;
    }
    const r = evaluate(attr.expr, null);
    diags.push(...r.diagnostics);
    if (r.diagnostics.some((d) => d.severity === 'error')) continue;
    const value = convertTo(r.value, v, attr.expr.range, 'Invalid value for variable', `The value for ${attr.name} is not compatible with the variable's type constraint`, diags);
    setValue(v, value, path, attr.expr.range);
  }
  return diags;
}

/** Packer's name for where a value came from, in "Invalid value for … variable". */
function sourceKind(source: string | undefined): string {
  if (source === 'cli') return 'cmd';
  if (source === 'env' || source === 'default') return source;
  return 'varfile';
}

function runValidations(v: DeclaredVariable, ctx: EvalContext): Diagnostic[] {
  const diags: Diagnostic[] = [];
  if (v.def.value === undefined) return diags;
  for (const rule of v.validations) {
    const r = evaluate(rule.condition, ctx);
    if (r.diagnostics.some((d) => d.severity === 'error')) {
      diags.push(...r.diagnostics);
      continue;
    }
    const c = convert(r.value, T.bool);
    if ('message' in c || c.value.isNull) {
      diags.push(errorDiag('Invalid validation result', 'The validation condition must produce a boolean value (true or false).', rule.condition.range));
      continue;
    }
    if (c.value.unknown || c.value.asBool()) continue;
    diags.push(
      errorDiag(
        `Invalid value for ${sourceKind(v.def.source)} variable`,
        `${rule.errorMessage}\n\nThis was checked by the validation rule at ${rangeString(rule.range)}.`,
        v.valueRange,
      ),
    );
  }
  return diags;
}

/** Builds the model's map of variables from the declarations. */
export function variableDefs(declared: Map<string, DeclaredVariable>): Map<string, VariableDef> {
  return new Map([...declared].map(([k, v]) => [k, v.def]));
}

