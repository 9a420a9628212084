/**
 * `builder inspect`: shows what a template declares, in Packer's `inspect` layout: input
 * variables (sensitive ones as "<sensitive>"), local variables, and each build with its sources,
 * provisioners and post-processor chains; required plugins first, when the template has some.
 * A legacy JSON template is shown as Packer 1.6.6 shows one (src/template/legacy/inspect.ts).
 */
import type { Command } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { varFlagSpecs, varFlagsUsage, variableInputs } from '../cli/template-flags.js';
import { formatDiagnostics, hasErrors } from '../diagnostics.js';
import { displayValue } from '../values/display.js';
import type { Value } from '../values/value.js';
import { legacyTemplateFile } from '../template/legacy/detect.js';
import { dataSourceLoading } from '../datasources/loading.js';
import { loadTemplate } from '../template/loader.js';
import type { Template } from '../template/model.js';

/** A value as inspect prints it: Go's %q of its display form (strings unquoted first). */
function shown(value: Value | undefined, sensitive: boolean): string {
  if (sensitive || value?.containsSensitive()) return '"<sensitive>"';
  if (value === undefined || value.unknown) return '"<unknown>"';
  const text = typeof value.raw === 'string' ? value.raw : displayValue(value);
  return JSON.stringify(text);
}

const byName = <T>(m: ReadonlyMap<string, T>): [string, T][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Renders the template the way `packer inspect` does for HCL2 templates. */
export function formatInspect(t: Template): string {
  const out: string[] = ['Packer Inspect: HCL2 mode', ''];
  // Not in Packer 1.6.6 (which has no required_plugins): listed only when the template has some.
  if (t.packer.requiredPlugins.length > 0) {
    out.push('> required-plugins:', '');
    for (const p of t.packer.requiredPlugins) {
      const parts = [p.source ? `source ${JSON.stringify(p.source)}` : '', p.version ? `version ${JSON.stringify(p.version)}` : ''].filter(Boolean);
      out.push(`${p.name}: ${parts.join(', ')}`);
    }
    out.push('');
  }
  out.push('> input-variables:', '');
  for (const [name, v] of byName(t.variables)) out.push(`var.${name}: ${shown(v.value, v.sensitive)}`);
  out.push('', '> local-variables:', '');
  // A local whose evaluation failed (reported by validate) is left out, as Packer leaves it out.
  for (const [name, l] of byName(t.locals)) if (l.value !== undefined) out.push(`local.${name}: ${shown(l.value, l.sensitive)}`);
  out.push('', '> builds:', '');
  t.builds.forEach((b, i) => {
    out.push(`  > ${b.name || `<unnamed build ${i}>`}:`, '');
    if (b.description) out.push(`  > Description: ${b.description}`, '');
    out.push('    sources:', '');
    if (b.sources.length === 0) out.push('      <no source>', '');
    for (const s of b.sources) out.push(`      ${s.type}.${s.localName}`, '');
    out.push('    provisioners:', '');
    if (b.provisioners.length === 0) out.push('      <no provisioner>');
    for (const p of b.provisioners) out.push(`      ${p.type}${p.name ? `.${p.name}` : ''}`);
    if (b.errorCleanupProvisioner) {
      const p = b.errorCleanupProvisioner;
      out.push('', '    error-cleanup-provisioner:', '', `      ${p.type}${p.name ? `.${p.name}` : ''}`);
    }
    out.push('', '    post-processors:', '');
    if (b.postProcessors.length === 0) out.push('      <no post-processor>', '');
    b.postProcessors.forEach((chain, j) => {
      out.push(`      ${j}:`);
      for (const p of chain) out.push(`        ${p.type}${p.name ? `.${p.name}` : ''}`);
      out.push('');
    });
  });
  return `${out.join('\n')}\n`;
}

export const inspectCommand: Command = {
  name: ['inspect'],
  synopsis: 'See components of a template',
  usage: `Usage: builder inspect [options] TEMPLATE

  Inspects a template, parsing and outputting the components a template defines: variables,
  locals, and each build with its sources, provisioners and post-processors. This does not
  validate the contents of a template (use "builder validate" for that).

Options:

${varFlagsUsage}
  -machine-readable      Machine-readable output (legacy JSON templates, as Packer 1.6.6).

  A legacy JSON template is shown in Packer 1.6.6's JSON-mode layout: variables with their
  defaults as written, builders and provisioners.`,
  async run(args, ctx) {
    const parsed = parseFlags(args, { ...varFlagSpecs, 'machine-readable': { kind: 'bool' } });
    if (parsed.args.length !== 1) throw new UsageError(parsed.args.length === 0 ? 'inspect needs a TEMPLATE argument' : 'inspect takes exactly one TEMPLATE argument');
    const legacy = legacyTemplateFile(parsed.args[0]!, ctx.cwd);
    if (legacy) {
      // Loaded only for legacy JSON templates, off the start-up path of HCL2 ones.
      const { inspectLegacy } = await import('../template/legacy/inspect.js');
      const r = inspectLegacy(legacy, variableInputs(parsed), ctx.cwd, parsed.flags['machine-readable']);
      ctx.stdout.write(r.stdout);
      ctx.stderr.write(r.stderr);
      return r.code;
    }
    if (parsed.flags['machine-readable']) throw new UsageError('-machine-readable is supported by inspect for legacy JSON templates only');
    // Like Packer, only the parsing phases' problems are shown (and stop it): unset variables,
    // failed validation rules, failed locals and unknown sources are `validate`'s to report.
    // Current Packer's inspect executes data sources too; their failures, like failed locals, are
    // not shown here (the values print as <unknown>).
    const { template, parseDiagnostics, sources } = await loadTemplate(parsed.args[0]!, { inputs: variableInputs(parsed), env: ctx.env, cwd: ctx.cwd, dataSources: dataSourceLoading(ctx, true, parsed.flags['use-sequential-evaluation']) });
    if (parseDiagnostics.length > 0) ctx.stderr.write(formatDiagnostics(parseDiagnostics, sources));
    if (!template || hasErrors(parseDiagnostics)) return 1;
    ctx.stdout.write(formatInspect(template));
    return 0;
  },
};
