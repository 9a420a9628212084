/**
 * The one binding pass: a loaded template and the component registries of the run (`Components`,
 * passed in as Packer injects its component finders) → bound builds + diagnostics. `validate`,
 * `inspect`, `build`, `plan` and the fingerprints all use it; nothing else evaluates a component
 * body before the run.
 *
 * Contracts:
 * - Every component type of every build is checked against the registries, selected by
 *   -only/-except or not (as Packer 1.6.6 does while decoding); then, for the builds selected
 *   (`planned`), each body is evaluated ONCE against its component's ConfigSpec with the values
 *   only a running build knows (`build.Host`, …) given as Packer's placeholders ("{{ build `Host`
 *   }}"), so `"HOST=${build.Host}"` is checked as the string it will be — and the component's
 *   `prepare` runs on it. That evaluation is also what fingerprints hash (src/plan/inputs.ts): the
 *   placeholders are fixed text, so the same template always gives the same fingerprints.
 * - `configure(values)` evaluates and prepares a body again with the real `build.*` values of the
 *   connected build, when its step runs; a failure there is the step's error (it was checked here).
 * - Identical diagnostics from several builds are reported once.
 * - A bound build with an error diagnostic of its own is still returned (validate reports all
 *   problems); callers that run builds stop on `hasErrors(diagnostics)`.
 */
import { errorDiag, hasErrors, warningDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { Components } from '../components.js';
import type { BuilderDef, BuildValues, ConfigSpec, PostProcessorDef, PrepareResult, ProvisionerDef } from '../sdk/component.js';
import { evaluateSourceConfig, evaluateStepConfig } from '../template/evaluate-config.js';
import { bodyExpressions } from '../template/data.js';
import { variablesOf } from '../hcl/traversals.js';
import {
  BUILD_CONTEXT_KEYS,
  type BuildContextValues,
  type EvaluatedConfig,
  type PlannedBuild,
  type PostProcessorDef as PostProcessorBlock,
  type ProvisionerDef as ProvisionerBlock,
  type Template,
} from '../template/model.js';

/** What `validate` puts where a value is known only while building, as Packer does. */
export const BUILD_PLACEHOLDERS: BuildValues = Object.fromEntries(BUILD_CONTEXT_KEYS.map((k) => [k, `{{ build \`${k}\` }}`]));

interface Preparable {
  configSpec: ConfigSpec;
  prepare(raw: Record<string, unknown>): PrepareResult<unknown>;
}

/** One component of a bound build: its definition and its body, evaluated and prepared. */
export interface BoundComponent<D extends Preparable> {
  type: string;
  /** The `name` the template gives it, or "". */
  name: string;
  def: D;
  range: Range;
  /** The body evaluated with placeholders for `build.*` (see the module comment). */
  evaluated: EvaluatedConfig;
  /** `def.prepare(evaluated.config)`'s config; undefined when evaluation or prepare failed. */
  prepared: unknown;
  /** Evaluates and prepares the body with the connected build's values; throws on errors. */
  configure(values: BuildValues): unknown;
}

/** A provisioner or post-processor of a bound build, with its meta-arguments. */
export interface BoundStep<D extends Preparable> extends BoundComponent<D> {
  pauseBefore?: number;
  maxRetries?: number;
  timeout?: number;
  /** The `keep_input_artifact` meta-argument of a post-processor, when given. */
  keepInputArtifact?: boolean;
  /** What "Running post-processor:" names, when not "NAME (type TYPE)" (legacy JSON templates: the type of an unnamed one). */
  label?: string;
}

export type BoundProvisioner = BoundStep<ProvisionerDef<unknown>>;
export type BoundPostProcessor = BoundStep<PostProcessorDef<unknown>>;

export interface BoundBuild {
  /** Packer's full name, the output prefix: "<build>.<type>.<name>" or "<type>.<name>". */
  name: string;
  /** PACKER_BUILD_NAME: the source's name in the build. */
  packerBuildName: string;
  /** PACKER_BUILDER_TYPE: the source type. */
  builderType: string;
  planned: PlannedBuild;
  source: BoundComponent<BuilderDef<unknown>>;
  provisioners: BoundProvisioner[];
  errorCleanupProvisioner?: BoundProvisioner;
  postProcessors: BoundPostProcessor[][];
}

export interface BindResult {
  /** The selected builds whose every component type is known. */
  builds: BoundBuild[];
  diagnostics: Diagnostic[];
  /** Every sensitive string met (variables, locals, values derived from them), to mask in output. */
  sensitive: string[];
}

/** Binds the selected builds (`planned`, from expandBuilds) of a template to the run's components. */
export function bindBuilds(template: Template, planned: readonly PlannedBuild[], components: Components): BindResult {
  const diags = new DiagnosticSet();
  diags.add(unknownTypes(template, components));
  const sensitive = new Set<string>();
  const builds: BoundBuild[] = [];
  for (const p of planned) {
    const builder = components.builders.get(p.source.type);
    if (!builder) continue;
    const base: BuildContextValues = { buildName: p.build.name, sourceName: p.source.localName, sourceType: p.source.type };
    const withBuild = (values: BuildValues): BuildContextValues => ({ ...base, build: values });
    const placeholders = builder.plugin ? { ...pluginGeneratedPlaceholders(p), ...BUILD_PLACEHOLDERS } : BUILD_PLACEHOLDERS;
    const bind = <D extends Preparable>(kind: string, type: string, name: string, def: D, range: Range, evaluate: (v: BuildContextValues) => EvaluatedConfig): BoundComponent<D> => {
      const evaluated = evaluate(withBuild(placeholders));
      evaluated.sensitiveValues.forEach((s) => sensitive.add(s));
      const { diagnostics, config } = prepareChecked(kind, type, range, evaluated, def);
      diags.add(diagnostics);
      return {
        type,
        name,
        def,
        range,
        evaluated,
        prepared: config,
        configure(values) {
          const ev = evaluate(withBuild(values));
          const errs = ev.diagnostics.filter((d) => d.severity === 'error');
          if (errs.length > 0) throw new Error(errs.map((d) => `${d.summary}${d.detail ? `: ${d.detail}` : ''}`).join('\n'));
          return prepareOrThrow(kind, type, def, ev.config);
        },
      };
    };
    const step = <D extends Preparable>(kind: string, block: ProvisionerBlock | PostProcessorBlock, def: D): BoundStep<D> => ({
      ...bind(kind, block.type, block.name ?? '', def, block.range, (v) => evaluateStepConfig(template, p, block, v, def.configSpec)),
      pauseBefore: block.pauseBefore,
      maxRetries: block.maxRetries,
      timeout: block.timeout,
      keepInputArtifact: block.keepInputArtifact,
      label: template.legacy && (block.name === undefined || block.name === block.type) ? block.type : undefined,
    });
    const provisioner = (block: ProvisionerBlock): BoundProvisioner | undefined => {
      const def = components.provisioners.get(block.type);
      return def ? step('provisioner', block, def) : undefined;
    };
    const provs = p.provisioners.map(provisioner);
    const cleanup = p.errorCleanupProvisioner ? provisioner(p.errorCleanupProvisioner) : undefined;
    const posts = p.postProcessors.map((chain) => chain.map((block) => {
      const def = components.postProcessors.get(block.type);
      return def ? step('post-processor', block, def) : undefined;
    }));
    if (provs.includes(undefined) || (p.errorCleanupProvisioner && !cleanup) || posts.some((c) => c.includes(undefined))) continue;
    builds.push({
      name: p.name,
      packerBuildName: p.source.localName,
      builderType: p.source.type,
      planned: p,
      source: bind('source', p.source.type, p.source.localName, builder, p.sourceDef.range, (v) => evaluateSourceConfig(template, p, v, builder.configSpec)),
      provisioners: provs as BoundProvisioner[],
      errorCleanupProvisioner: cleanup,
      postProcessors: posts as BoundPostProcessor[][],
    });
  }
  for (const v of template.variables.values()) {
    if (v.sensitive && v.value && !v.value.unknown) collectStrings(v.value.raw, sensitive);
  }
  return { builds, diagnostics: diags.list, sensitive: [...sensitive] };
}

/**
 * For a plugin builder: a placeholder for every other `build.NAME` its provisioners and
 * post-processors refer to. A plugin builder's generated variables (Packer's `GeneratedVars`) are
 * known only once its own Prepare runs, at the start of its build, and their values arrive with its
 * provision hook (BuilderDef.connect `values`); a name it does not generate is an error then.
 */
function pluginGeneratedPlaceholders(p: PlannedBuild): BuildValues {
  const out: BuildValues = {};
  const blocks = [...p.provisioners, ...(p.errorCleanupProvisioner ? [p.errorCleanupProvisioner] : []), ...p.postProcessors.flat()];
  for (const block of blocks) {
    for (const expr of bodyExpressions(block.body)) {
      for (const ref of variablesOf(expr)) {
        const name = ref.root === 'build' ? ref.steps[0] : undefined;
        if (name !== undefined && name !== 'name') out[name] = `{{ build \`${name}\` }}`;
      }
    }
  }
  return out;
}

/** True when binding found no error: the builds can run. */
export function bindOk(result: BindResult): boolean {
  return !hasErrors(result.diagnostics);
}

/** Diagnostics, each distinct one kept once. */
class DiagnosticSet {
  readonly list: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  add(ds: readonly Diagnostic[]): void {
    for (const d of ds) {
      const key = JSON.stringify([d.severity, d.summary, d.detail, d.subject?.filename, d.subject?.start.byte]);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.list.push(d);
    }
  }
}

/** A component's message with every sensitive value in it replaced by "<sensitive>". */
function maskSensitive(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((t, secret) => t.split(secret).join('<sensitive>'), text);
}

/** Evaluation diagnostics plus prepare's errors and warnings, as Packer reports them. */
function prepareChecked(kind: string, type: string, range: Range, evaluated: EvaluatedConfig, def: Preparable): { diagnostics: Diagnostic[]; config: unknown } {
  const diags = [...evaluated.diagnostics];
  if (hasErrors(diags)) return { diagnostics: diags, config: undefined };
  const mask = (text: string): string => maskSensitive(text, evaluated.sensitiveValues);
  let result: PrepareResult<unknown>;
  try {
    result = def.prepare(evaluated.config);
  } catch (e) {
    return { diagnostics: [...diags, errorDiag(`Failed preparing ${kind} "${type}"`, mask((e as Error).message), range)], config: undefined };
  }
  if (result.errors.length > 0) diags.push(errorDiag(`Failed preparing ${kind} "${type}"`, result.errors.map((e) => `* ${mask(e)}`).join('\n'), range));
  for (const w of result.warnings) diags.push(warningDiag(`Warning from ${kind} "${type}"`, mask(w), range));
  return { diagnostics: diags, config: result.errors.length > 0 ? undefined : result.config };
}

/** Prepares a configuration; throws an Error with Packer's text when it is refused. */
function prepareOrThrow(kind: string, type: string, def: Preparable, raw: Record<string, unknown>): unknown {
  const r = def.prepare(raw);
  if (r.errors.length > 0 || r.config === undefined) {
    throw new Error(`Failed preparing ${kind} "${type}": ${r.errors.length} error(s) occurred:\n\n${r.errors.map((e) => `* ${e}`).join('\n')}`);
  }
  return r.config;
}

/** "Unknown … type" diagnostics for every component of every build, selected or not (as Packer
 * 1.6.6 reports them while decoding, whatever -only / -except say). */
function unknownTypes(template: Template, components: Components): Diagnostic[] {
  const out: Diagnostic[] = [];
  const unknown = (kind: string, type: string, known: readonly string[], range: Range | undefined): Diagnostic =>
    errorDiag(`Unknown ${kind} type "${type}"`, `builder has no ${kind === 'source' ? 'builder' : kind} of type "${type}". Known types: ${known.join(', ')}.`, range);
  for (const b of template.builds) {
    for (const ref of b.sources) {
      const def = template.sources.get(`${ref.type}.${ref.sourceName}`);
      if (def && !components.builders.has(ref.type)) out.push(unknown('source', ref.type, components.builders.keys(), def.range));
    }
    const provs = b.errorCleanupProvisioner ? [...b.provisioners, b.errorCleanupProvisioner] : b.provisioners;
    for (const p of provs) {
      if (!components.provisioners.has(p.type)) out.push(unknown('provisioner', p.type, components.provisioners.keys(), p.range));
    }
    for (const pp of b.postProcessors.flat()) {
      if (!components.postProcessors.has(pp.type)) out.push(unknown('post-processor', pp.type, components.postProcessors.keys(), pp.range));
    }
  }
  return out;
}

/** The strings in a variable's value, for masking. Numbers and bools are not masked: hiding
 * every "1" or "true" in the output would hide nothing and garble everything. */
function collectStrings(raw: unknown, out: Set<string>): void {
  if (typeof raw === 'string') out.add(raw);
  else if (Array.isArray(raw)) for (const v of raw) collectStrings((v as { raw: unknown }).raw, out);
  else if (raw instanceof Map) for (const v of raw.values()) collectStrings((v as { raw: unknown }).raw, out);
}
