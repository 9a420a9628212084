/**
 * Evaluation contexts of the template's phases (Packer's `EvalContext(ctxKind)`):
 *
 * - variable defaults: functions only, `env()` included; no variables (Packer allows none there);
 * - locals, data blocks and build blocks: `var`, `local`, `data`, `path`, `packer`, functions
 *   without `env()`;
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

/** `local.*` as an object of the locals evaluated so far (or of those named in `only`). */
export function localObject(template: Pick<Template, 'locals'>, only?: readonly string[]): Value {
  const m = new Map<string, Value>();
  const names = only ?? template.locals.keys();
  for (const name of names) {
    const l = template.locals.get(name);
    if (l) m.set(name, (l.value ?? Value.unknown()).markSensitive(l.sensitive));
  }
  return Value.object(m);
}

/** `data.TYPE.NAME` as an object of objects: each data block's value, unknown (of any type) while
 * it is not evaluated or when it failed (its diagnostic says why). */
export function dataObject(template: Pick<Template, 'dataSources'>): Value {
  const byType = new Map<string, Map<string, Value>>();
  for (const d of template.dataSources) {
    let m = byType.get(d.type);
    if (!m) byType.set(d.type, (m = new Map()));
    m.set(d.name, d.value ?? Value.unknown());
  }
  return Value.object(new Map([...byType].map(([t, m]) => [t, Value.object(m)])));
}

/**
 * The context of locals, data blocks and build blocks. `vars`, `locals` and `data` may be given
 * ready-made (the loader makes `var` once, and for each local a `local` object of only the locals
 * it refers to).
 */
export function localsContext(template: Pick<Template, 'variables' | 'locals'> & Partial<Pick<Template, 'dataSources'>>, base: ContextBase, vars?: Value, locals?: Value, data?: Value): EvalContext {
  return {
    variables: new Map([
      ['var', vars ?? varObject(template)],
      ['local', locals ?? localObject(template)],
      ['data', data ?? dataObject({ dataSources: template.dataSources ?? [] })],
      ['path', pathObject(base)],
      ['packer', Value.object({ version: Value.string(PACKER_LANGUAGE_VERSION) })],
    ]),
    functions: functionsWithoutEnv(),
    functionContext: { baseDir: base.root, cwd: base.cwd, allowEnv: false, env: base.env },
  };
}

/** Communicator-time values that are secrets: marked sensitive, so they are masked in output. */
export const SECRET_BUILD_KEYS: ReadonlySet<string> = new Set(['Password', 'SSHPrivateKey', 'WinRMPassword']);

/** The locals context of a loaded template, made once: component bodies of every build share it. */
const loadedContexts = new WeakMap<Template, EvalContext>();
/** Component contexts by template and build values: every step of one build shares one. */
const buildContexts = new WeakMap<Template, Map<string, EvalContext>>();

/** The context of component bodies for one build (values absent from `values` are unknown).
 * Call it only on a loaded template (its variables and locals no longer change). */
export function componentContext(template: Template, values: BuildContextValues): EvalContext {
  const key = JSON.stringify([values.buildName, values.sourceName, values.sourceType, values.build]);
  let byValues = buildContexts.get(template);
  if (!byValues) buildContexts.set(template, (byValues = new Map()));
  const cached = byValues.get(key);
  if (cached) return cached;
  const made = makeComponentContext(template, values);
  byValues.set(key, made);
  return made;
}

function makeComponentContext(template: Template, values: BuildContextValues): EvalContext {
  let ctx = loadedContexts.get(template);
  if (!ctx) {
    ctx = localsContext(template, { root: template.root, cwd: template.cwd, env: {} });
    loadedContexts.set(template, ctx);
  }
  const str = (s: string | undefined): Value => (s === undefined ? Value.unknown(T.string) : Value.string(s));
  const build = new Map<string, Value>([['name', str(values.buildName)]]);
  for (const key of BUILD_CONTEXT_KEYS) build.set(key, str(values.build?.[key]).markSensitive(SECRET_BUILD_KEYS.has(key)));
  for (const [key, v] of Object.entries(values.build ?? {})) if (!build.has(key)) build.set(key, Value.string(v));
  const own = new Map([
    ['source', Value.object({ name: str(values.sourceName), type: str(values.sourceType) })],
    ['build', Value.object(build)],
  ]);
  return withVariables(ctx, own);
}

/** A child context with extra variables (for `dynamic` iterators). */
export function withVariables(ctx: EvalContext, extra: ReadonlyMap<string, Value>): EvalContext {
  return { variables: extra, functions: ctx.functions, functionContext: ctx.functionContext, parent: ctx };
}
