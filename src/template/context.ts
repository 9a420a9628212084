/**
 * Evaluation contexts of the template's phases (Packer's `EvalContext(ctxKind)`):
 *
 * - variable defaults: functions only, `env()` included; no variables (Packer allows none there);
 * - locals and build blocks: `var`, `local`, `path`, `packer`, functions without `env()`;
 * - component bodies (sources, provisioners, post-processors): also `source` and `build`, whose
 *   values come from `BuildContextValues`; whatever it lacks is unknown (as during `validate`).
 */
import type { EvalContext } from '../hcl/eval.js';
import type { FunctionTable } from '../functions/types.js';
import { packerFunctions } from '../functions/index.js';
import { T, Value } from '../values/value.js';
import { PACKER_LANGUAGE_VERSION } from '../version.js';
import { BUILD_CONTEXT_KEYS, type BuildContextValues, type Template } from './model.js';

let withoutEnv: FunctionTable | undefined;

/** Packer's functions minus `env`, which exists only in variable defaults. */
export function functionsWithoutEnv(): FunctionTable {
  withoutEnv ??= new Map([...packerFunctions].filter(([name]) => name !== 'env'));
  return withoutEnv;
}

export interface ContextBase {
  root: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** The context of variable defaults: functions (with `env`), no variables. */
export function defaultsContext(base: ContextBase): EvalContext {
  return {
    variables: new Map(),
    functions: packerFunctions,
    functionContext: { baseDir: base.root, cwd: base.cwd, allowEnv: true, env: base.env },
  };
}

function pathObject(base: ContextBase): Value {
  return Value.object({ root: Value.string(base.root), cwd: Value.string(base.cwd) });
}

/** `var.*` as an object of the variables' final values (sensitive ones marked). Variables
 * without a value are unknown, so that one missing value is reported once, not at every use. */
export function varObject(template: Pick<Template, 'variables'>): Value {
  const m = new Map<string, Value>();
  for (const [name, v] of template.variables) m.set(name, (v.value ?? Value.unknown(v.type)).markSensitive(v.sensitive));
  return Value.object(m);
}

/** `local.*` as an object of the locals evaluated so far. */
export function localObject(template: Pick<Template, 'locals'>): Value {
  const m = new Map<string, Value>();
  for (const [name, l] of template.locals) m.set(name, (l.value ?? Value.unknown()).markSensitive(l.sensitive));
  return Value.object(m);
}

/** The context of locals and build blocks. */
export function localsContext(template: Pick<Template, 'variables' | 'locals'>, base: ContextBase): EvalContext {
  return {
    variables: new Map([
      ['var', varObject(template)],
      ['local', localObject(template)],
      ['path', pathObject(base)],
      ['packer', Value.object({ version: Value.string(PACKER_LANGUAGE_VERSION) })],
    ]),
    functions: functionsWithoutEnv(),
    functionContext: { baseDir: base.root, cwd: base.cwd, allowEnv: false, env: base.env },
  };
}

/** The context of component bodies for one build (values absent from `values` are unknown). */
export function componentContext(template: Template, values: BuildContextValues): EvalContext {
  const base = { root: template.root, cwd: template.cwd, env: {} };
  const ctx = localsContext(template, base);
  const str = (s: string | undefined): Value => (s === undefined ? Value.unknown(T.string) : Value.string(s));
  const build = new Map<string, Value>([['name', str(values.buildName)]]);
  for (const key of BUILD_CONTEXT_KEYS) build.set(key, str(values.build?.[key]));
  for (const [key, v] of Object.entries(values.build ?? {})) if (!build.has(key)) build.set(key, Value.string(v));
  const variables = new Map(ctx.variables);
  variables.set('source', Value.object({ name: str(values.sourceName), type: str(values.sourceType) }));
  variables.set('build', Value.object(build));
  return { ...ctx, variables };
}

/** A child context with extra variables (for `dynamic` iterators). */
export function withVariables(ctx: EvalContext, extra: ReadonlyMap<string, Value>): EvalContext {
  return { ...ctx, variables: new Map([...ctx.variables, ...extra]) };
}
