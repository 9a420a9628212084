/**
 * Checks the components of the builds a template would run (what `validate` does after loading,
 * like Packer's GetBuilds + Prepare): every source, provisioner and post-processor type must be
 * known, its body must fit the component's ConfigSpec, and the component's `prepare` must accept
 * the evaluated configuration.
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

function prepareDiags(kind: string, type: string, range: Range, evaluated: EvaluatedConfig, def: Checkable): Diagnostic[] {
  const diags = [...evaluated.diagnostics];
  if (diags.some((d) => d.severity === 'error')) return diags;
  let result: PrepareResult<unknown>;
  try {
    result = def.prepare(evaluated.config);
  } catch (e) {
    return [...diags, errorDiag(`Failed preparing ${kind} "${type}"`, (e as Error).message, range)];
  }
  if (result.errors.length > 0) diags.push(errorDiag(`Failed preparing ${kind} "${type}"`, result.errors.map((e) => `* ${e}`).join('\n'), range));
  for (const w of result.warnings) diags.push(warningDiag(`Warning from ${kind} "${type}"`, w, range));
  return diags;
}

/** Diagnostics for every component of the planned builds; each distinct problem reported once. */
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
  for (const p of planned) {
    const values: BuildContextValues = { buildName: p.build.name, sourceName: p.source.localName, sourceType: p.source.type, build: PLACEHOLDERS };
    const builder = builders.get(p.source.type);
    if (!builder) {
      add([errorDiag(`Unknown source type "${p.source.type}"`, `builder has no builder of type "${p.source.type}". Known types: ${[...builders.keys()].join(', ')}.`, p.sourceDef.range)]);
    } else {
      add(prepareDiags('source', p.source.type, p.sourceDef.range, evaluateSourceConfig(template, p, values, builder.configSpec), builder));
    }
    const provs = p.errorCleanupProvisioner ? [...p.provisioners, p.errorCleanupProvisioner] : p.provisioners;
    for (const prov of provs) {
      const def = provisioners.get(prov.type);
      if (!def) {
        add([errorDiag(`Unknown provisioner type "${prov.type}"`, `builder has no provisioner of type "${prov.type}". Known types: ${[...provisioners.keys()].join(', ')}.`, prov.range)]);
        continue;
      }
      add(prepareDiags('provisioner', prov.type, prov.range, evaluateStepConfig(template, p, prov, values, def.configSpec), def));
    }
    for (const chain of p.postProcessors) {
      for (const pp of chain) {
        const def = postProcessors.get(pp.type);
        if (!def) {
          add([errorDiag(`Unknown post-processor type "${pp.type}"`, `builder has no post-processor of type "${pp.type}". Known types: ${[...postProcessors.keys()].join(', ')}.`, pp.range)]);
          continue;
        }
        add(prepareDiags('post-processor', pp.type, pp.range, evaluateStepConfig(template, p, pp, values, def.configSpec), def));
      }
    }
  }
  return out;
}
