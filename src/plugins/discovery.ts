/**
 * Finding plugin components, and handing them out as lazily started adapters.
 *
 * Two sources:
 * - A Packer 1.x executable (`BUILDER_PACKER`, else `packer` on PATH) serves its in-tree components
 *   as `packer plugin packer-KIND-NAME`. Packer has no command that lists them (and it hands out a
 *   handshake even for a name it does not have), so the names are Packer 1.6.6's list below; a
 *   component a given Packer lacks fails when it is loaded, with the plugin's own error.
 * - Multi-component plugins: executables named `packer-plugin-NAME` (or, as `packer plugins
 *   install` lays them out, `packer-plugin-NAME_vX.Y.Z_x5.0_OS_ARCH` beside a `…_SHA256SUM` file
 *   that must match) in PACKER_PLUGIN_PATH, `~/.packer.d/plugins` and `~/.config/packer/plugins`
 *   (searched recursively for the
 *   `github.com/ORG/NAME/` layout), the template's folder and the working folder. Each is asked
 *   `describe`; a component registered under the SDK's default name is called NAME, others
 *   NAME-COMPONENT (`amazon` + `ebs` → `amazon-ebs`).
 *
 * Precedence: a `packer-plugin-*` component wins over Packer's in-tree one of the same name; among
 * plugin binaries the highest version wins, then the first folder in the order above.
 *
 * Wiring (done by the registries, not here): a native component wins over a plugin of the same
 * type unless `preferPlugins` is set (`BUILDER_PREFER_PLUGINS=1`: every component a plugin serves
 * comes from the plugin, for differential tests and for Packer's exact behaviour) or the template's
 * `required_plugins` asks for that plugin.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import type { BuilderDef, PostProcessorDef, ProvisionerDef } from '../sdk/component.js';
import { pluginBuilder } from './builder.js';
import { executableFact } from './executable-facts.js';
import { PluginComponent, type LoadOptions, type PluginConfig, type PluginKind, type PluginSource } from './component.js';
import { pluginPostProcessor } from './post-processor.js';
import { pluginProvisioner } from './provisioner.js';
import { protobufForRun, startArgs } from './spec-proto.js';

const run = promisify(execFile);

/** Packer 1.6.6's in-tree components (what `packer plugin packer-KIND-NAME` serves). */
export const PACKER_1_6_COMPONENTS: Record<PluginKind, readonly string[]> = {
  builder: [
    'alicloud-ecs', 'amazon-chroot', 'amazon-ebs', 'amazon-ebssurrogate', 'amazon-ebsvolume', 'amazon-instance',
    'azure-arm', 'azure-chroot', 'azure-dtl', 'cloudstack', 'digitalocean', 'docker', 'file', 'googlecompute',
    'hcloud', 'hyperone', 'hyperv-iso', 'hyperv-vmcx', 'jdcloud', 'linode', 'lxc', 'lxd', 'ncloud', 'null',
    'oneandone', 'openstack', 'oracle-classic', 'oracle-oci', 'osc-bsu', 'osc-bsusurrogate',
    'osc-bsuvolume', 'osc-chroot', 'parallels-iso', 'parallels-pvm', 'profitbricks', 'proxmox',
    'proxmox-clone', 'proxmox-iso', 'qemu', 'scaleway', 'tencentcloud-cvm', 'triton', 'ucloud-uhost', 'vagrant',
    'virtualbox-iso', 'virtualbox-ovf', 'virtualbox-vm', 'vmware-iso', 'vmware-vmx', 'vsphere-clone',
    'vsphere-iso', 'yandex',
  ],
  provisioner: [
    'ansible', 'ansible-local', 'azure-dtlartifact', 'breakpoint', 'chef-client', 'chef-solo', 'converge', 'file',
    'inspec', 'powershell', 'puppet-masterless', 'puppet-server', 'salt-masterless', 'shell', 'shell-local',
    'sleep', 'windows-restart', 'windows-shell',
  ],
  'post-processor': [
    'alicloud-import', 'amazon-import', 'artifice', 'checksum', 'compress', 'digitalocean-import', 'docker-import',
    'docker-push', 'docker-save', 'docker-tag', 'exoscale-import', 'googlecompute-export', 'googlecompute-import',
    'manifest', 'shell-local', 'ucloud-import', 'vagrant', 'vagrant-cloud', 'vsphere', 'vsphere-template',
    'yandex-export', 'yandex-import',
  ],
  // Data sources came with the plugin SDK (Packer 1.7): Packer 1.6.6 serves none.
  datasource: [],
};

/** The SDK's name for a plugin's unnamed (default) component. */
export const DEFAULT_COMPONENT_NAME = '-packer-default-plugin-name-';

export interface DiscoveryOptions {
  /** The environment to read PATH, BUILDER_PACKER, PACKER_PLUGIN_PATH, HOME, BUILDER_PREFER_PLUGINS from. */
  env?: NodeJS.ProcessEnv;
  templateDir?: string;
  cwd?: string;
  /** Passed to every plugin started (debug sink, socket folder, the plugins' environment). */
  load?: LoadOptions;
}

/** A component found but not started. `load()` starts it once (reads its ConfigSpec) and memoises. */
export interface LazyComponent<D> {
  source: PluginSource;
  load(): Promise<D>;
}

export interface PluginComponents {
  builders: Map<string, LazyComponent<BuilderDef<PluginConfig>>>;
  provisioners: Map<string, LazyComponent<ProvisionerDef<PluginConfig>>>;
  postProcessors: Map<string, LazyComponent<PostProcessorDef<PluginConfig>>>;
  /** BUILDER_PREFER_PLUGINS=1: plugins win over native components of the same type. */
  preferPlugins: boolean;
  /** Problems met while looking (a plugin whose describe failed, a checksum mismatch). */
  warnings: string[];
  /** Stops the spare processes of every loaded component. */
  shutdown(): Promise<void>;
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

/** The Packer executable to take in-tree components from, if any. */
export function packerExecutable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.BUILDER_PACKER) return existsSync(env.BUILDER_PACKER) ? resolve(env.BUILDER_PACKER) : findOnPath(env.BUILDER_PACKER, env);
  return findOnPath('packer', env);
}

const BINARY = /^packer-plugin-([a-z0-9][a-z0-9_-]*?)(?:_v(\d+\.\d+\.\d+[^_]*)_x(\d+\.\d+)_([a-z0-9]+)_([a-z0-9]+))?(\.exe)?$/;

export interface PluginBinary {
  path: string;
  name: string;
  version?: string;
}

function listBinaries(dir: string, recursive: boolean, warnings: string[], depth = 0): PluginBinary[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: PluginBinary[] = [];
  for (const e of entries.sort()) {
    const p = join(dir, e);
    let st;
    try { st = statSync(p); } catch { continue; }
    if (st.isDirectory()) {
      if (recursive && depth < 4) out.push(...listBinaries(p, recursive, warnings, depth + 1));
      continue;
    }
    const m = BINARY.exec(e);
    if (!m || !st.isFile() || e.endsWith('_SHA256SUM') || (st.mode & 0o111) === 0) continue;
    if (m[2]) {
      const sumFile = `${p}_SHA256SUM`;
      if (existsSync(sumFile)) {
        const want = readFileSync(sumFile, 'utf8').trim().split(/\s+/)[0]!.toLowerCase();
        const got = createHash('sha256').update(readFileSync(p)).digest('hex');
        if (want !== got) {
          warnings.push(`${p}: its checksum does not match ${sumFile}; ignored (reinstall it with packer plugins install)`);
          continue;
        }
      }
      if (m[4] !== process.platform.replace('win32', 'windows') || m[5] !== process.arch.replace('x64', 'amd64')) continue;
    }
    out.push({ path: p, name: m[1]!, ...(m[2] ? { version: m[2] } : {}) });
  }
  return out;
}

/** Plugin binaries in the folders current Packer searches, best first for each name. */
export function findPluginBinaries(options: DiscoveryOptions, warnings: string[] = []): PluginBinary[] {
  const env = options.env ?? process.env;
  const dirs: Array<[string, boolean]> = [];
  for (const d of (env.PACKER_PLUGIN_PATH ?? '').split(delimiter).filter(Boolean)) dirs.push([d, true]);
  const home = env.HOME ?? homedir();
  dirs.push([join(env.PACKER_CONFIG_DIR ?? join(home, '.packer.d'), 'plugins'), true]);
  // Current Packer installs into $XDG_CONFIG_HOME/packer/plugins (default ~/.config/packer/plugins).
  if (!env.PACKER_CONFIG_DIR) dirs.push([join(env.XDG_CONFIG_HOME || join(home, '.config'), 'packer', 'plugins'), true]);
  if (options.templateDir) dirs.push([options.templateDir, false]);
  dirs.push([options.cwd ?? process.cwd(), false]);
  const all = dirs.flatMap(([d, rec]) => listBinaries(resolve(d), rec, warnings));
  // Stable: the highest version first, then folder order.
  return all
    .map((b, i) => ({ b, i }))
    .sort((x, y) => {
      const vx = semver.valid(x.b.version ?? '') ?? '0.0.0';
      const vy = semver.valid(y.b.version ?? '') ?? '0.0.0';
      return semver.rcompare(vx, vy) || x.i - y.i;
    })
    .map((x) => x.b);
}

export interface Described {
  version?: string;
  builders?: string[];
  provisioners?: string[];
  post_processors?: string[];
  datasources?: string[];
  protocol_version?: string;
}

async function describe(bin: PluginBinary, env: NodeJS.ProcessEnv): Promise<Described> {
  // What `describe` prints changes only with the binary (cached: executable-facts.ts).
  const stdout = await executableFact(bin.path, 'describe', async () => {
    const text = (await run(bin.path, ['describe'], { env, timeout: 30_000, maxBuffer: 1 << 20 })).stdout;
    JSON.parse(text); // only a valid answer is cached
    return text;
  }, env);
  return JSON.parse(stdout) as Described;
}

function componentType(plugin: string, component: string): string {
  return component === DEFAULT_COMPONENT_NAME ? plugin : `${plugin}-${component}`;
}

/** A plugin binary and what its `describe` said. `version` is the installed file name's, else describe's. */
export interface DescribedPlugin {
  binary: PluginBinary;
  version?: string;
  described: Described;
  /** Start its components with `--protobuf` (spec-proto.ts: `protobufForRun`, and it says v2). */
  protobuf?: boolean;
}

/** What discovery found: plugin binaries (best first for each name) and the Packer executable. */
export interface Discovered {
  plugins: DescribedPlugin[];
  packer?: { path: string; version: string };
  warnings: string[];
}

/** The version `packer version` prints (undefined, with a warning, when it fails). */
export async function packerVersionOf(path: string, env: NodeJS.ProcessEnv, warnings: string[]): Promise<string | undefined> {
  try {
    // Cached with the executable's state (executable-facts.ts): no process when it is known.
    const stdout = await executableFact(path, 'packer version', async () => (await run(path, ['version'], { env: { ...env, CHECKPOINT_DISABLE: '1' }, timeout: 30_000 })).stdout, env);
    return /Packer v?(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  } catch (e) {
    warnings.push(`${path}: "packer version" failed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/**
 * Runs `describe` on every plugin binary found and `packer version` on the Packer executable.
 * `deferPackerVersion`: do not wait for `packer version`; `packer` is then the executable found with
 * version "" and the caller checks `packerVersion` (so that starting components overlaps it).
 */
export async function discover(options: DiscoveryOptions = {}, deferPackerVersion = false): Promise<Discovered & { packerVersion: Promise<string | undefined> }> {
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const binaries = findPluginBinaries(options, warnings);
  const packerPath = packerExecutable(env);
  const packerVersion = packerPath ? packerVersionOf(packerPath, env, warnings) : Promise.resolve(undefined);
  const described = await Promise.all(binaries.map(async (b): Promise<DescribedPlugin | undefined> => {
    try {
      const d = await describe(b, env);
      const version = b.version ?? d.version;
      return { binary: b, described: d, ...(version ? { version } : {}) };
    } catch (e) {
      warnings.push(`${b.path}: "describe" failed: ${(e as Error).message.split('\n')[0]}`);
      return undefined;
    }
  }));
  const plugins = withProtobuf(described.filter((x): x is DescribedPlugin => x !== undefined), env);
  const version = deferPackerVersion ? '' : await packerVersion;
  const usable = version === '' || (version !== undefined && semver.major(version) === 1);
  return {
    plugins,
    ...(packerPath && usable ? { packer: { path: packerPath, version } } : {}),
    packerVersion,
    warnings,
  };
}

/** Marks the plugins to start with `--protobuf`: the run's decision is taken over the best binary
 * of each plugin name, and a plugin gets the flag only when it says v2 itself. */
function withProtobuf(plugins: DescribedPlugin[], env: NodeJS.ProcessEnv): DescribedPlugin[] {
  const best = new Map<string, DescribedPlugin>();
  for (const p of plugins) if (!best.has(p.binary.name)) best.set(p.binary.name, p);
  const d = (p: DescribedPlugin): Described => p.described;
  const count = (p: DescribedPlugin): number => [d(p).builders, d(p).provisioners, d(p).post_processors, d(p).datasources].reduce((n, l) => n + (l?.length ?? 0), 0);
  const run = protobufForRun([...best.values()].map((p) => ({ ...(d(p).protocol_version ? { protocol_version: d(p).protocol_version } : {}), componentCount: count(p) })), env);
  return plugins.map((p) => (run && d(p).protocol_version === 'v2' ? { ...p, protobuf: true } : p));
}

/** The components one plugin binary serves, named with `localName` (its `required_plugins` key, else its own name). */
export function pluginSources(p: DescribedPlugin, localName = p.binary.name): PluginSource[] {
  const d = p.described;
  const origin = `packer-plugin-${p.binary.name}${p.version ? ` v${p.version}` : ''} (${p.binary.path})`;
  const kinds: Array<[PluginKind, string[] | undefined]> = [['builder', d.builders], ['provisioner', d.provisioners], ['post-processor', d.post_processors], ['datasource', d.datasources]];
  return kinds.flatMap(([kind, names]) => (names ?? []).map((c) => ({
    kind, type: componentType(localName, c), command: p.binary.path, args: startArgs(kind, c, p.protobuf === true), origin, ...(p.version ? { version: p.version } : {}),
  })));
}

/** The in-tree components a Packer 1.x executable serves. */
export function packerSources(packer: { path: string; version: string }): PluginSource[] {
  return (['builder', 'provisioner', 'post-processor'] as const).flatMap((kind) => PACKER_1_6_COMPONENTS[kind].map((type) => ({
    kind, type, command: packer.path, args: ['plugin', `packer-${kind}-${type}`], origin: `packer${packer.version ? ` ${packer.version}` : ''} (${packer.path})`,
    ...(packer.version ? { version: packer.version } : {}),
  })));
}

/** One source per kind and type: the first given wins. */
export function mergeSources(...lists: PluginSource[][]): PluginSource[] {
  const out = new Map<string, PluginSource>();
  for (const s of lists.flat()) if (!out.has(`${s.kind}:${s.type}`)) out.set(`${s.kind}:${s.type}`, s);
  return [...out.values()];
}

/** Every component the found plugins and Packer serve, with where each comes from. */
export async function discoverSources(options: DiscoveryOptions = {}): Promise<{ sources: PluginSource[]; warnings: string[] }> {
  const found = await discover(options);
  const sources = mergeSources(...found.plugins.map((p) => pluginSources(p)), found.packer ? packerSources(found.packer) : []);
  return { sources, warnings: found.warnings };
}

function lazy<D>(source: PluginSource, load: LoadOptions, make: (c: PluginComponent) => D, loaded: PluginComponent[]): LazyComponent<D> {
  let p: Promise<D> | undefined;
  return {
    source,
    load() {
      p ??= PluginComponent.load(source, load).then((c) => {
        loaded.push(c);
        return make(c);
      });
      return p;
    },
  };
}

/**
 * The components plugins serve, by kind and type, as adapters started on first `load()`.
 * The caller must `shutdown()` when the run ends.
 */
export async function pluginComponents(options: DiscoveryOptions = {}): Promise<PluginComponents> {
  const env = options.env ?? process.env;
  const { sources, warnings } = await discoverSources(options);
  const loaded: PluginComponent[] = [];
  const load = { ...(options.load ?? {}) };
  const out: PluginComponents = {
    builders: new Map(),
    provisioners: new Map(),
    postProcessors: new Map(),
    preferPlugins: env.BUILDER_PREFER_PLUGINS === '1',
    warnings,
    async shutdown() {
      await Promise.all(loaded.map((c) => c.shutdown()));
    },
  };
  for (const s of sources) {
    if (s.kind === 'builder') out.builders.set(s.type, lazy(s, load, (c) => pluginBuilder(c), loaded));
    else if (s.kind === 'provisioner') out.provisioners.set(s.type, lazy(s, load, pluginProvisioner, loaded));
    else if (s.kind === 'post-processor') out.postProcessors.set(s.type, lazy(s, load, pluginPostProcessor, loaded));
    // Data sources are wired by src/plugins/wiring.ts (withPluginDataSources) only.
  }
  return out;
}

/**
 * The precedence rule for one component type: the native definition, unless there is none, or
 * plugins are preferred (BUILDER_PREFER_PLUGINS=1), or the template's `required_plugins` asks for
 * the plugin — then the plugin's lazily loaded adapter. Undefined when neither exists.
 */
export function chooseComponent<D>(
  native: D | undefined,
  plugin: LazyComponent<D> | undefined,
  opts: { preferPlugins: boolean; requiredByTemplate?: boolean },
): { native: D } | { plugin: LazyComponent<D> } | undefined {
  if (plugin && (native === undefined || opts.preferPlugins || opts.requiredByTemplate)) return { plugin };
  return native !== undefined ? { native } : undefined;
}
