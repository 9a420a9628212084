/**
 * Plugin components added to a run's registries, for the component types a template uses.
 *
 * Contracts:
 * - Which definition serves a type: the native one, unless there is none, or
 *   `BUILDER_PREFER_PLUGINS=1` and a plugin serves it, or a plugin the template's `required_plugins`
 *   selected serves it (`chooseComponent`). Plugin sources, best first: the `required_plugins`
 *   selections, then other `packer-plugin-*` binaries (highest version first), then the in-tree
 *   components of the Packer executable (`BUILDER_PACKER`, else `packer` on PATH).
 * - Only the plugin components a template uses are started (one process each, to read the
 *   ConfigSpec; it is kept for the first instance), all at once. A component used several times
 *   starts the next instance's process while one runs, so start-ups overlap work.
 * - A provisioner or post-processor process that finished a step is configured again for the next
 *   instance of its component (`LoadOptions.reuseProcesses`) instead of a new one being started:
 *   builder sends every attribute of the ConfigSpec, absent ones as null, so a second Prepare or
 *   Configure replaces the first configuration (checked with Packer 1.6.6's shell-local and
 *   manifest: environment, script/inline, valid_exit_codes and custom_data of one instance do not
 *   reach the next; test/plugins/cli.test.ts). `BUILDER_PLUGIN_REUSE=0` starts one process per
 *   instance instead (for a plugin that keeps state between configurations). Builders always get
 *   one process per instance (their `Run` holds the instance).
 * - Every plugin definition carries its `PluginIdentity` (served component, plugin name and
 *   version, SHA-256 of the executable: executable-facts.ts), which enters the fingerprints.
 * - `close()` stops every spare process; processes of running steps are stopped by their steps,
 *   and every plugin process group is killed when builder exits (process.ts).
 */
import { resolve } from 'node:path';
import semver from 'semver';
import type { Components, ComponentsForOptions, RunComponents, UsedTypes } from '../components.js';
import type { RunDataSources } from '../datasources/loading.js';
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import type { BuilderDef, DataSourceDef, PluginIdentity, PostProcessorDef, ProvisionerDef } from '../sdk/component.js';
import type { Registry } from '../sdk/registry.js';
import type { Template } from '../template/model.js';
import { binaryDigest } from './executable-facts.js';
import { pluginBuilder } from './builder.js';
import { pluginDataSource } from './datasource.js';
import { PluginComponent, type LoadOptions, type PluginKind, type PluginSource } from './component.js';
import { chooseComponent, discover, mergeSources, packerSources, pluginSources, type Discovered, type LazyComponent } from './discovery.js';
import { pluginPostProcessor } from './post-processor.js';
import { pluginProvisioner } from './provisioner.js';
import { resolveRequired } from './required.js';

type AnyDef = BuilderDef<unknown> | ProvisionerDef<unknown> | PostProcessorDef<unknown>;

const KINDS: Array<{ kind: PluginKind; key: keyof UsedTypes }> = [
  { kind: 'builder', key: 'builders' },
  { kind: 'provisioner', key: 'provisioners' },
  { kind: 'post-processor', key: 'postProcessors' },
];

/** Counts the runs of a component used `uses` times: while more remain, each run starts the next
 * instance's process ahead (not when processes are reused: the running one serves the next). */
function aheadOf(component: PluginComponent, uses: number, reuse: boolean): () => void {
  let remaining = reuse ? 0 : uses;
  return () => {
    remaining--;
    if (remaining > 0) component.prestart();
  };
}

/** The identity of the plugin serving `source` (for fingerprints), its executable hashed (an
 * executable that can be run but not read counts by name and version only). */
export async function pluginIdentity(source: PluginSource, env: NodeJS.ProcessEnv, packerVersion?: Promise<string | undefined>): Promise<PluginIdentity> {
  // A Packer executable's version is learnt while its components start.
  const version = source.version ?? (packerVersion ? await packerVersion : undefined) ?? '';
  return {
    component: `${source.kind} ${source.args.at(-1) ?? source.type}`,
    name: source.version || !packerVersion ? source.origin.replace(/ \(.*\)$/, '') : `packer ${version}`.trim(),
    version,
    digest: await binaryDigest(source.command, env).catch(() => 'unreadable'),
  };
}

function adapter(kind: PluginKind, component: PluginComponent, uses: number, reuse: boolean, plugin: PluginIdentity): AnyDef {
  const ahead = aheadOf(component, uses, reuse);
  if (kind === 'builder') return { ...(pluginBuilder(component) as BuilderDef<unknown>), plugin };
  if (kind === 'provisioner') {
    const p = pluginProvisioner(component) as ProvisionerDef<unknown>;
    const def: ProvisionerDef<unknown> = { ...p, plugin, run: (config, ctx) => { ahead(); return p.run(config, ctx); } };
    return def;
  }
  const pp = pluginPostProcessor(component) as PostProcessorDef<unknown>;
  const def: PostProcessorDef<unknown> = { ...pp, plugin, run: (config, input, ctx) => { ahead(); return pp.run(config, input, ctx); } };
  return def;
}

/** The plugins a template's run can use (found and `required_plugins`), and the one chosen for a
 * component: the same precedence for every kind (the module comment). */
interface PluginChoice {
  found: Discovered & { packerVersion: Promise<string | undefined> };
  /** Problems of `required_plugins` (a plugin not installed at the version asked…). */
  diagnostics: Diagnostic[];
  /** The plugin source that serves `kind` `type` in this run, or undefined when `native` does. */
  choose(kind: PluginKind, type: string, native: unknown): PluginSource | undefined;
}

async function pluginChoice(template: Template, options: ComponentsForOptions, load: LoadOptions): Promise<PluginChoice> {
  const env = options.env;
  // `packer version` runs while the components start; a Packer that is not 1.x is refused after.
  const found = await discover({ env, cwd: options.cwd, templateDir: resolve(options.cwd, template.root), load }, true);
  const required = resolveRequired(template.packer.requiredPlugins, found.plugins);
  const key = (kind: PluginKind, type: string): string => `${kind}:${type}`;
  const requiredTypes = new Set(required.sources.map((s) => key(s.kind, s.type)));
  const sources = new Map(mergeSources(required.sources, ...found.plugins.map((p) => pluginSources(p)), found.packer ? packerSources(found.packer) : [])
    .map((s) => [key(s.kind, s.type), s]));
  const preferPlugins = env.BUILDER_PREFER_PLUGINS === '1';
  return {
    found,
    diagnostics: [...required.diagnostics],
    choose(kind, type, native) {
      const source = sources.get(key(kind, type));
      const lazy: LazyComponent<unknown> | undefined = source ? { source, load: async () => source } : undefined;
      const choice = chooseComponent<unknown>(native, lazy, { preferPlugins, requiredByTemplate: requiredTypes.has(key(kind, type)) });
      return choice && 'plugin' in choice ? choice.plugin.source : undefined;
    },
  };
}

/** Stops the spare processes of `loaded` components, once. */
function closer(loaded: readonly PluginComponent[]): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    await Promise.all(loaded.map((c) => c.shutdown()));
  };
}

export async function withPlugins(base: Components, template: Template, used: UsedTypes, options: ComponentsForOptions): Promise<RunComponents> {
  const env = options.env;
  const load: LoadOptions = {
    env: { ...env, ...(options.runUuid ? { PACKER_RUN_UUID: options.runUuid } : {}) },
    reuseProcesses: env.BUILDER_PLUGIN_REUSE !== '0',
  };
  const { found, diagnostics, choose } = await pluginChoice(template, options, load);
  const loaded: PluginComponent[] = [];

  const chosen: Array<{ kind: PluginKind; source: PluginSource; uses: number }> = [];
  for (const { kind, key } of KINDS) {
    for (const [type, uses] of used[key]) {
      const source = choose(kind, type, base[key].get(type));
      if (source) chosen.push({ kind, source, uses });
    }
  }
  const packerOk = found.packerVersion.then((v) => v !== undefined && semver.major(v) === 1);
  const defs = await Promise.all(chosen.map(async ({ kind, source, uses }) => {
    const loading = PluginComponent.load(source, load);
    const identity = pluginIdentity(source, env, found.packer && source.command === found.packer.path ? found.packerVersion : undefined);
    if (found.packer && source.command === found.packer.path && !(await packerOk)) {
      void loading.then((c) => c.shutdown(), () => undefined);
      const v = await found.packerVersion;
      diagnostics.push(errorDiag(`Plugin ${kind} "${source.type}" is not available`, `${found.packer.path} is ${v ? `Packer ${v}` : 'not a Packer that answers "packer version"'}; only Packer 1.x serves its components as plugins (set BUILDER_PACKER to a Packer 1.x).`));
      return undefined;
    }
    try {
      const component = await loading;
      loaded.push(component);
      return { kind, def: adapter(kind, component, uses, load.reuseProcesses === true, await identity) };
    } catch (e) {
      diagnostics.push(errorDiag(`Plugin ${kind} "${source.type}" did not start`, (e as Error).message));
      return undefined;
    }
  }));
  const of = <D extends AnyDef>(k: PluginKind): D[] => defs.filter((d) => d?.kind === k).map((d) => d!.def as D);
  return {
    components: {
      builders: base.builders.with(of<BuilderDef<unknown>>('builder'), () => true),
      provisioners: base.provisioners.with(of<ProvisionerDef<unknown>>('provisioner'), () => true),
      postProcessors: base.postProcessors.with(of<PostProcessorDef<unknown>>('post-processor'), () => true),
      communicators: base.communicators,
      dataSources: base.dataSources,
    },
    diagnostics,
    close: closer(loaded),
  };
}

/**
 * The data sources of a template's `data` blocks (`types`), plugins added as for the other kinds
 * (same precedence): one process per type reads ConfigSpec and OutputSpec and serves the first
 * block; each further block of the type gets a fresh process. `close()` stops what is left.
 */
export async function withPluginDataSources(base: Registry<DataSourceDef<unknown>>, template: Template, types: readonly string[], options: ComponentsForOptions): Promise<RunDataSources> {
  const env = options.env;
  const load: LoadOptions = { env };
  const { diagnostics, choose } = await pluginChoice(template, options, load);
  const loaded: PluginComponent[] = [];
  const defs = await Promise.all([...new Set(types)].map(async (type) => {
    const chosen = choose('datasource', type, base.get(type));
    if (!chosen) return undefined;
    try {
      const component = await PluginComponent.load(chosen, load);
      loaded.push(component);
      const def: DataSourceDef<unknown> = { ...(await pluginDataSource(component) as DataSourceDef<unknown>), plugin: await pluginIdentity(chosen, env) };
      return def;
    } catch (e) {
      diagnostics.push(errorDiag(`Plugin datasource "${type}" did not start`, (e as Error).message));
      return undefined;
    }
  }));
  return {
    registry: base.with(defs.filter((d): d is DataSourceDef<unknown> => d !== undefined), () => true),
    diagnostics,
    close: closer(loaded),
  };
}
