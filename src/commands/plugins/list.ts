/**
 * `builder plugins list [-json]`: every component found, one line each — kind, type, source
 * (`native`, a plugin binary's path, or a Packer executable) and version — in the order that
 * decides which one a template gets, with `*` on the one it gets under the current environment
 * (native first unless BUILDER_PREFER_PLUGINS=1; `required_plugins` can still pick a plugin).
 * Plugin binaries are asked `describe`; no component process is started.
 */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { UsageError } from '../../errors.js';
import { nativeComponents } from '../../components.js';
import { discover, mergeSources, packerSources, pluginSources } from '../../plugins/discovery.js';
import { BUILDER_VERSION } from '../../version.js';

const flagSpecs = { json: { kind: 'bool' } } as const;

interface Row {
  kind: string;
  type: string;
  source: string;
  version: string;
  used: boolean;
}

const KINDS = [['builder', 'builders'], ['provisioner', 'provisioners'], ['post-processor', 'postProcessors'], ['datasource', 'dataSources']] as const;

export const pluginsListCommand: Command = {
  name: ['plugins', 'list'],
  synopsis: 'List every component found, its kind, source and version',
  usage: `Usage: builder plugins list [-json]

  Lists every component builder can use: its native ones, those of the packer-plugin-NAME
  binaries in PACKER_PLUGIN_PATH, the Packer plugins folders (~/.packer.d/plugins,
  ~/.config/packer/plugins) and the working folder, and the in-tree components of the Packer
  executable (BUILDER_PACKER, else packer on PATH). "*" marks the one a template gets for its
  type: the native one unless BUILDER_PREFER_PLUGINS=1 (required_plugins can still choose a plugin).

Options:

  -json    Print a JSON array of {kind, type, source, version, used}.`,
  async run(args, ctx) {
    const parsed = parseFlags(args, flagSpecs);
    if (parsed.args.length > 0) throw new UsageError('plugins list takes no arguments');
    const found = await discover({ env: ctx.env, cwd: ctx.cwd });
    for (const w of found.warnings) ctx.stderr.write(`Warning: ${w}\n`);
    const plugins = mergeSources(...found.plugins.map((p) => pluginSources(p)));
    const fromPacker = found.packer ? packerSources(found.packer) : [];
    const prefer = ctx.env.BUILDER_PREFER_PLUGINS === '1';
    const native = nativeComponents();
    const rows: Row[] = [];
    for (const [kind, key] of KINDS) {
      const types = new Set<string>([...native[key].keys(), ...plugins.filter((s) => s.kind === kind).map((s) => s.type), ...fromPacker.filter((s) => s.kind === kind).map((s) => s.type)]);
      for (const type of [...types].sort()) {
        const candidates: Row[] = [];
        if (native[key].has(type)) candidates.push({ kind, type, source: 'native', version: BUILDER_VERSION, used: false });
        for (const s of [...plugins, ...fromPacker].filter((x) => x.kind === kind && x.type === type)) {
          candidates.push({ kind, type, source: s.origin, version: s.version ?? '', used: false });
        }
        const winner = prefer ? candidates.find((c) => c.source !== 'native') ?? candidates[0] : candidates[0];
        if (winner) winner.used = true;
        // Preference order: the one used first.
        rows.push(...candidates.filter((c) => c.used), ...candidates.filter((c) => !c.used));
      }
    }
    if (parsed.flags.json) {
      ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    const w = (k: keyof Row): number => Math.max(...rows.map((r) => String(r[k]).length), k.length);
    const line = (used: string, kind: string, type: string, version: string, source: string): string =>
      `${used} ${kind.padEnd(w('kind'))}  ${type.padEnd(w('type'))}  ${version.padEnd(w('version'))}  ${source}`.trimEnd();
    ctx.stdout.write(`${line(' ', 'KIND', 'TYPE', 'VERSION', 'SOURCE')}\n`);
    for (const r of rows) ctx.stdout.write(`${line(r.used ? '*' : ' ', r.kind, r.type, r.version, r.source)}\n`);
    return 0;
  },
};
