/**
 * `required_plugins` of a template's `packer` blocks, resolved against the plugin binaries found.
 *
 * Contracts:
 * - An entry `LOCAL = { source = "github.com/ORG/NAME", version = "CONSTRAINT" }` selects, among the
 *   found `packer-plugin-NAME` binaries (NAME is the source's last segment, without a
 *   `packer-plugin-` prefix), the highest version that meets the go-version constraint (`>=`, `~>`,
 *   comma = and; src/template/packer-block.ts). A binary installed under another source's folder
 *   (`…/github.com/OTHER/NAME/…`) does not count.
 * - The components of a selected plugin are named with LOCAL (`LOCAL-COMPONENT`, or LOCAL for the
 *   default component) and win over native components of the same type.
 * - No matching binary is one error per entry, at the entry, naming the exact
 *   `packer plugins install SOURCE VERSION` command to run (and the versions found, if any).
 */
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import { shellQuote } from '../state/errors.js';
import { versionSatisfies } from '../template/packer-block.js';
import type { PackerBlock } from '../template/model.js';
import type { PluginSource } from './component.js';
import { pluginSources, type DescribedPlugin } from './discovery.js';

type RequiredPlugin = PackerBlock['requiredPlugins'][number];

export interface RequiredResolution {
  /** The components of the selected plugins (these win over native ones). */
  sources: PluginSource[];
  /** The selected plugin of each entry, by local name. */
  selected: Map<string, DescribedPlugin>;
  diagnostics: Diagnostic[];
}

/** The plugin name of a source address: `github.com/hashicorp/amazon` → `amazon`. */
export function pluginNameOf(source: string): string {
  const last = source.split('/').filter(Boolean).pop() ?? source;
  return last.replace(/^packer-plugin-/, '');
}

/** The argument `packer plugins install` takes for a constraint: `v1.2.3` for an exact version. */
function installVersion(constraint: string | undefined): string | undefined {
  if (!constraint || constraint.trim() === '') return undefined;
  const exact = /^\s*=?\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\s*$/.exec(constraint);
  return exact ? `v${exact[1]!}` : constraint.trim();
}

/** The command that installs what an entry asks for. */
export function installCommand(source: string, constraint: string | undefined): string {
  const v = installVersion(constraint);
  return ['packer', 'plugins', 'install', source, ...(v ? [v] : [])].map(shellQuote).join(' ');
}

function fromSource(p: DescribedPlugin, source: string): boolean {
  const path = p.binary.path.split('\\').join('/');
  const m = /\/(github\.com\/[^/]+\/[^/]+)\/[^/]+$/.exec(path);
  return !m || m[1]!.toLowerCase() === source.toLowerCase().replace(/\/packer-plugin-([^/]+)$/, '/$1');
}

export function resolveRequired(required: readonly RequiredPlugin[], plugins: readonly DescribedPlugin[]): RequiredResolution {
  const out: RequiredResolution = { sources: [], selected: new Map(), diagnostics: [] };
  for (const entry of required) {
    if (!entry.source) {
      out.diagnostics.push(errorDiag(
        `Missing source for required plugin "${entry.name}"`,
        `required_plugins entry "${entry.name}" has no source address: write it as ${entry.name} = { source = "github.com/ORG/${entry.name}", version = "${entry.version ?? '>= 1.0.0'}" }.`,
        entry.range,
      ));
      continue;
    }
    const name = pluginNameOf(entry.source);
    const candidates = plugins.filter((p) => p.binary.name === name && fromSource(p, entry.source!));
    if (entry.version !== undefined && versionSatisfies('0.0.0', entry.version) === undefined) {
      out.diagnostics.push(errorDiag('Invalid version constraint', `The version of required plugin "${entry.name}" ("${entry.version}") is not a version constraint such as ">= 1.0.0" or "~> 1.2".`, entry.range));
      continue;
    }
    const meets = candidates.filter((p) => entry.version === undefined || (p.version !== undefined && versionSatisfies(p.version, entry.version) === true));
    // Candidates are best first (highest version), so the first that meets the constraint is chosen.
    const chosen = meets[0];
    if (!chosen) {
      const found = candidates.map((p) => `v${p.version ?? '?'} (${p.binary.path})`);
      out.diagnostics.push(errorDiag(
        `Missing plugin ${entry.source}${entry.version ? ` ${entry.version}` : ''}`,
        `The template requires the plugin ${entry.source}${entry.version ? ` at version ${entry.version}` : ''}, ` +
          `${found.length > 0 ? `but only ${found.join(', ')} is installed` : 'which is not installed'}. Install it with:\n  ${installCommand(entry.source, entry.version)}`,
        entry.range,
      ));
      continue;
    }
    out.selected.set(entry.name, chosen);
    out.sources.push(...pluginSources(chosen, entry.name));
  }
  return out;
}
