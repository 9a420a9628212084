/**
 * Checks the components of the builds a template would run (what `validate` does after loading,
 * like Packer's GetBuilds + Prepare): every source, provisioner and post-processor type must be
 * known (in every build, selected or not), and in the selected builds each body must fit its
 * component's ConfigSpec and the component's `prepare` must accept the evaluated configuration.
 *
 * Values known only while building (`build.Host`, …) are given as placeholders such as
 * "{{ build `Host` }}" — what Packer puts there while validating — so that a field like
 * "HOST=${build.Host}" is checked as the string it will be, not as an unknown.
 */
import { errorDiag, warningDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { ConfigSpec, PrepareResult } from '../core/component.js';
import { builders } from '../builders/registry.js';
import { provisioners } from '../provisioners/registry.js';
import { postProcessors } from '../post-processors/registry.js';
import { evaluateSourceConfig, evaluateStepConfig } from './evaluate-config.js';
import { BUILD_CONTEXT_KEYS, type BuildContextValues, type EvaluatedConfig, type PlannedBuild, type Template } from './model.js';

const PLACEHOLDERS: Record<string, string> = Object.fromEntries(BUILD_CONTEXT_KEYS.map((k) => [k, `{{ build \`${k}\` }}`]));

interface Checkable {
  configSpec: ConfigSpec;
  prepare(raw: Record<string, unknown>): PrepareResult<unknown>;
}

/** A component's message with every sensitive value in it replaced by "<sensitive>". */
function maskSensitive(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((t, secret) => t.split(secret).join('<sensitive>'), text);
}

function prepareDiags(kind: string, type: string, range: Range, evaluated: EvaluatedConfig, def: Checkable): Diagnostic[] {
  const diags = [...evaluated.diagnostics];
  if (diags.some((d) => d.severity === 'error')) return diags;
  let result: PrepareResult<unknown>;
  try {
    result = def.prepare(evaluated.config);
  } catch (e) {
    return [...diags, errorDiag(`Failed preparing ${kind} "${type}"`, maskSensitive((e as Error).message, evaluated.sensitiveValues), range)];
  }
  const mask = (text: string): string => maskSensitive(text, evaluated.sensitiveValues);
  if (result.errors.length > 0) diags.push(errorDiag(`Failed preparing ${kind} "${type}"`, result.errors.map((e) => `* ${mask(e)}`).join('\n'), range));
  for (const w of result.warnings) diags.push(warningDiag(`Warning from ${kind} "${type}"`, mask(w), range));
  return diags;
}

/** "Unknown … type" diagnostics for every component of every build, selected or not (as Packer
 * 1.6.6 reports them while decoding, whatever -only / -except say). */
function unknownTypes(template: Template): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const b of template.builds) {
    for (const ref of b.sources) {
      const def = template.sources.get(`${ref.type}.${ref.sourceName}`);
      if (def && !builders.has(ref.type)) {
        out.push(errorDiag(`Unknown source type "${ref.type}"`, `builder has no builder of type "${ref.type}". Known types: ${[...builders.keys()].join(', ')}.`, def.range));
      }
    }
    const provs = b.errorCleanupProvisioner ? [...b.provisioners, b.errorCleanupProvisioner] : b.provisioners;
    for (const p of provs) {
      if (!provisioners.has(p.type)) {
        out.push(errorDiag(`Unknown provisioner type "${p.type}"`, `builder has no provisioner of type "${p.type}". Known types: ${[...provisioners.keys()].join(', ')}.`, p.range));
      }
    }
    for (const pp of b.postProcessors.flat()) {
      if (!postProcessors.has(pp.type)) {
        out.push(errorDiag(`Unknown post-processor type "${pp.type}"`, `builder has no post-processor of type "${pp.type}". Known types: ${[...postProcessors.keys()].join(', ')}.`, pp.range));
      }
    }
  }
  return out;
}

/** Diagnostics for the template's component types (all builds) and for every component of the
 * planned builds; each distinct problem reported once. */
export function checkBuilds(template: Template, planned: readonly PlannedBuild[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const add = (ds: readonly Diagnostic[]): void => {
    for (const d of ds) {
      const key = JSON.stringify([d.severity, d.summary, d.detail, d.subject?.filename, d.subject?.start.byte]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(d);
    }
  };
  add(unknownTypes(template));
  for (const p of planned) {
    const values: BuildContextValues = { buildName: p.build.name, sourceName: p.source.localName, sourceType: p.source.type, build: PLACEHOLDERS };
    const builder = builders.get(p.source.type);
    if (builder) add(prepareDiags('source', p.source.type, p.sourceDef.range, evaluateSourceConfig(template, p, values, builder.configSpec), builder));
    const provs = p.errorCleanupProvisioner ? [...p.provisioners, p.errorCleanupProvisioner] : p.provisioners;
    for (const prov of provs) {
      const def = provisioners.get(prov.type);
      if (def) add(prepareDiags('provisioner', prov.type, prov.range, evaluateStepConfig(template, p, prov, values, def.configSpec), def));
    }
    for (const pp of p.postProcessors.flat()) {
      const def = postProcessors.get(pp.type);
      if (def) add(prepareDiags('post-processor', pp.type, pp.range, evaluateStepConfig(template, p, pp, values, def.configSpec), def));
    }
  }
  return out;
}
