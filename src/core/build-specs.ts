/**
 * Turns the builds a template would run (`expandBuilds`) into `BuildSpec`s the runner executes:
 * each component resolved from its registry, the source configuration evaluated and prepared
 * once, and each provisioner's and post-processor's configuration evaluated when its step runs
 * (so it can use `build.Host`, `build.ID`, … of the connected build). `builder build` has already
 * checked everything with `checkBuilds`, so a failure here is reported as the step's error.
 */
import { builders } from '../builders/registry.js';
import { provisioners } from '../provisioners/registry.js';
import { postProcessors } from '../post-processors/registry.js';
import { evaluateSourceConfig, evaluateStepConfig } from '../template/evaluate-config.js';
import type { BuildContextValues, PlannedBuild, PostProcessorDef as PostProcessorBlock, ProvisionerDef as ProvisionerBlock, Template } from '../template/model.js';
import type { ConfigSpec, PrepareResult } from './component.js';
import type { BuildSpec, BuildValues, PostProcessorSpec, ProvisionerSpec } from './build-runner.js';

interface Preparable {
  configSpec: ConfigSpec;
  prepare(raw: Record<string, unknown>): PrepareResult<unknown>;
}

export interface BuildSpecsResult {
  specs: BuildSpec[];
  /** Every sensitive value met while evaluating configurations, to mask in output. */
  sensitive: string[];
}

/** Prepares a configuration; throws an Error with Packer's text when it is refused. */
function prepared(kind: string, type: string, def: Preparable, raw: Record<string, unknown>): unknown {
  const r = def.prepare(raw);
  if (r.errors.length > 0 || r.config === undefined) {
    throw new Error(`Failed preparing ${kind} "${type}": ${r.errors.length} error(s) occurred:\n\n${r.errors.map((e) => `* ${e}`).join('\n')}`);
  }
  return r.config;
}

export function buildSpecs(template: Template, planned: readonly PlannedBuild[], runUuid: string): BuildSpecsResult {
  const sensitive = new Set<string>();
  const specs = planned.map((p): BuildSpec => {
    const base: BuildContextValues = { buildName: p.build.name, sourceName: p.source.localName, sourceType: p.source.type };
    const withBuild = (values: BuildValues): BuildContextValues => ({ ...base, build: values });
    const builder = builders.get(p.source.type);
    if (!builder) throw new Error(`Unknown source type "${p.source.type}"`);
    const source = evaluateSourceConfig(template, p, { ...base, build: { PackerRunUUID: runUuid } }, builder.configSpec);
    source.sensitiveValues.forEach((s) => sensitive.add(s));
    const evalError = (diags: typeof source.diagnostics): Error | undefined => {
      const errs = diags.filter((d) => d.severity === 'error');
      return errs.length > 0 ? new Error(errs.map((d) => `${d.summary}${d.detail ? `: ${d.detail}` : ''}`).join('\n')) : undefined;
    };
    const srcErr = evalError(source.diagnostics);
    if (srcErr) throw srcErr;
    const builderConfig = prepared('source', p.source.type, builder, source.config);

    const provisionerSpec = (block: ProvisionerBlock): ProvisionerSpec => {
      const def = provisioners.get(block.type);
      if (!def) throw new Error(`Unknown provisioner type "${block.type}"`);
      return {
        type: block.type,
        name: block.name,
        def,
        pauseBefore: block.pauseBefore,
        maxRetries: block.maxRetries,
        timeout: block.timeout,
        configure(values) {
          const ev = evaluateStepConfig(template, p, block, withBuild(values), def.configSpec);
          const err = evalError(ev.diagnostics);
          if (err) throw err;
          return prepared('provisioner', block.type, def, ev.config);
        },
      };
    };
    const postProcessorSpec = (block: PostProcessorBlock): PostProcessorSpec => {
      const def = postProcessors.get(block.type);
      if (!def) throw new Error(`Unknown post-processor type "${block.type}"`);
      return {
        type: block.type,
        name: block.name,
        def,
        keepInputArtifact: block.keepInputArtifact,
        label: template.legacy && (block.name === undefined || block.name === block.type) ? block.type : undefined,
        configure(values) {
          const ev = evaluateStepConfig(template, p, block, withBuild(values), def.configSpec);
          const err = evalError(ev.diagnostics);
          if (err) throw err;
          return prepared('post-processor', block.type, def, ev.config);
        },
      };
    };
    return {
      name: p.name,
      packerBuildName: p.source.localName,
      builderType: p.source.type,
      builder,
      builderConfig,
      provisioners: p.provisioners.map(provisionerSpec),
      errorCleanupProvisioner: p.errorCleanupProvisioner ? provisionerSpec(p.errorCleanupProvisioner) : undefined,
      postProcessors: p.postProcessors.map((chain) => chain.map(postProcessorSpec)),
    };
  });
  for (const v of template.variables.values()) {
    if (v.sensitive && v.value && !v.value.unknown) collectStrings(v.value.raw, sensitive);
  }
  return { specs, sensitive: [...sensitive] };
}

/** The strings in a variable's value, for masking. Numbers and bools are not masked: hiding
 * every "1" or "true" in the output would hide nothing and garble everything. */
function collectStrings(raw: unknown, out: Set<string>): void {
  if (typeof raw === 'string') out.add(raw);
  else if (Array.isArray(raw)) for (const v of raw) collectStrings((v as { raw: unknown }).raw, out);
  else if (raw instanceof Map) for (const v of raw.values()) collectStrings((v as { raw: unknown }).raw, out);
}
