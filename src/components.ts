/**
 * The components one run can use, by kind. `nativeComponents` are the ones built into builder;
 * `componentsFor` adds plugin components (src/plugins/) for what a template uses. Commands pass a
 * `Components` to the bind pass (src/plan/bind.ts) rather than reading the registries themselves.
 */
import { builders } from './builders/registry.js';
import { communicators } from './communicators/registry.js';
import { dataSources } from './datasources/registry.js';
import type { Diagnostic } from './diagnostics.js';
import { postProcessors } from './post-processors/registry.js';
import { provisioners } from './provisioners/registry.js';
import type { Registry } from './sdk/registry.js';
import type { BuilderDef, CommunicatorDef, DataSourceDef, PostProcessorDef, ProvisionerDef } from './sdk/component.js';
import type { Template } from './template/model.js';

export interface Components {
  builders: Registry<BuilderDef<unknown>>;
  provisioners: Registry<ProvisionerDef<unknown>>;
  postProcessors: Registry<PostProcessorDef<unknown>>;
  communicators: Registry<CommunicatorDef>;
  /** `data "TYPE" "NAME"` blocks; evaluated while the template loads (dataSourcesFor). */
  dataSources: Registry<DataSourceDef<unknown>>;
}

export function nativeComponents(): Components {
  return { builders, provisioners, postProcessors, communicators, dataSources };
}

/** The component types a template names, every build's (selected or not, as binding checks them),
 * with how many times each is used. */
export interface UsedTypes {
  builders: Map<string, number>;
  provisioners: Map<string, number>;
  postProcessors: Map<string, number>;
}

export function usedTypes(template: Template): UsedTypes {
  const out: UsedTypes = { builders: new Map(), provisioners: new Map(), postProcessors: new Map() };
  const count = (m: Map<string, number>, t: string): void => void m.set(t, (m.get(t) ?? 0) + 1);
  for (const b of template.builds) {
    for (const ref of b.sources) count(out.builders, ref.type);
    for (const p of b.provisioners) count(out.provisioners, p.type);
    if (b.errorCleanupProvisioner) count(out.provisioners, b.errorCleanupProvisioner.type);
    for (const pp of b.postProcessors.flat()) count(out.postProcessors, pp.type);
  }
  return out;
}

/** The components of one run, and what ends them (plugin processes). */
export interface RunComponents {
  components: Components;
  /** Problems of the plugins asked for (`required_plugins` not installed, a plugin that did not start). */
  diagnostics: Diagnostic[];
  /** Stops every plugin process still running; safe to call twice. */
  close(): Promise<void>;
}

export interface ComponentsForOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The components to start from (default: the native ones). */
  base?: Components;
  /** Given to plugin processes as PACKER_RUN_UUID (Packer's manifest post-processor reads it). */
  runUuid?: string;
}

/**
 * The components a template's run uses. Plugins are looked for (and their code loaded) only when
 * the template needs one: a component type no native component has, `required_plugins`, or
 * `BUILDER_PREFER_PLUGINS=1`. A native-only template costs nothing here.
 */
export async function componentsFor(template: Template, options: ComponentsForOptions): Promise<RunComponents> {
  const base = options.base ?? nativeComponents();
  const used = usedTypes(template);
  const lacking = [...used.builders.keys()].some((t) => !base.builders.has(t)) ||
    [...used.provisioners.keys()].some((t) => !base.provisioners.has(t)) ||
    [...used.postProcessors.keys()].some((t) => !base.postProcessors.has(t));
  if (!lacking && options.env.BUILDER_PREFER_PLUGINS !== '1' && template.packer.requiredPlugins.length === 0) {
    return { components: base, diagnostics: [], close: async () => undefined };
  }
  const { withPlugins } = await import('./plugins/wiring.js');
  return withPlugins(base, template, used, options);
}
