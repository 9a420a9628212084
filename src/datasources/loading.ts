/**
 * The data sources of one template load (`loadTemplate`'s `dataSources` option), kept apart from
 * src/components.ts so that commands which only load templates (console, inspect) do not load
 * every builder: the native data sources, plus plugin ones (src/plugins/wiring.ts, imported only
 * when needed).
 */
import type { Components, ComponentsForOptions } from '../components.js';
import type { Diagnostic } from '../diagnostics.js';
import type { DataSourceDef } from '../sdk/component.js';
import type { Registry } from '../sdk/registry.js';
import type { DataSourceLoadOptions } from '../template/loader.js';
import type { Template } from '../template/model.js';
import { dataSources } from './registry.js';

/** The data sources of one template load, and what ends them (plugin processes). */
export interface RunDataSources {
  registry: Registry<DataSourceDef<unknown>>;
  /** Problems of the plugins asked for (not installed, did not start). */
  diagnostics: Diagnostic[];
  /** Stops every data-source plugin process; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The data sources a template's `data` blocks use (`types`). As `componentsFor`: plugins are looked
 * for only when a type has no native data source, or `required_plugins` is set, or
 * `BUILDER_PREFER_PLUGINS=1`; their processes live until `close()` (after the template loaded).
 */
export async function dataSourcesFor(template: Template, types: readonly string[], options: ComponentsForOptions): Promise<RunDataSources> {
  const base = options.base?.dataSources ?? dataSources;
  const lacking = types.some((t) => !base.has(t));
  if (types.length === 0 || (!lacking && options.env.BUILDER_PREFER_PLUGINS !== '1' && template.packer.requiredPlugins.length === 0)) {
    return { registry: base, diagnostics: [], close: async () => undefined };
  }
  const { withPluginDataSources } = await import('../plugins/wiring.js');
  return withPluginDataSources(base, template, types, options);
}

/** The `dataSources` option of `loadTemplate` for a command: executed or not. */
export function dataSourceLoading(
  ctx: { env: NodeJS.ProcessEnv; cwd: string; signal?: AbortSignal; components?: Components },
  execute: boolean,
  sequential = false,
): DataSourceLoadOptions {
  return {
    execute,
    ...(sequential ? { sequential } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    resolve: (template, types) => dataSourcesFor(template, types, { env: ctx.env, cwd: ctx.cwd, ...(ctx.components ? { base: ctx.components } : {}) }),
  };
}
