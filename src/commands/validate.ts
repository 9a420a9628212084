/**
 * `builder validate`: loads the template, then checks every build it would run (component types,
 * arguments against each component's schema, each component's own checks). Data sources are
 * checked but executed only with `-evaluate-datasources`, as in Packer. Prints "The
 * configuration is valid." and exits 0, or prints every diagnostic and exits 1.
 */
import type { Command } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { buildFilterFlagSpecs, buildFilterFlagsUsage, splitList, varFlagSpecs, varFlagsUsage, variableInputs } from '../cli/template-flags.js';
import { formatDiagnostics, hasErrors } from '../diagnostics.js';
import { bindBuilds } from '../plan/bind.js';
import { componentsFor } from '../components.js';
import { dataSourceLoading } from '../datasources/loading.js';
import { expandBuilds } from '../template/expand.js';
import { loadTemplate } from '../template/loader.js';

const flagSpecs = {
  ...varFlagSpecs,
  ...buildFilterFlagSpecs,
  'syntax-only': { kind: 'bool' },
  'evaluate-datasources': { kind: 'bool' },
  'no-warn-undeclared-var': { kind: 'bool' },
} as const;

export const validateCommand: Command = {
  name: ['validate'],
  synopsis: 'Check that a template is valid',
  usage: `Usage: builder validate [options] TEMPLATE

  Checks the template is valid by parsing the template and also checking the configuration with
  the various builders, provisioners, etc. TEMPLATE is a .pkr.hcl or .pkr.json file, or a folder.

  If it is not valid, the errors will be shown and the command will exit with a non-zero exit
  status. If it is valid, it will exit with a zero exit status.

Options:

  -syntax-only           Only check syntax. Do not verify config of the template.
${buildFilterFlagsUsage}
${varFlagsUsage}
  -evaluate-datasources  Execute the data sources (data blocks), so that checks see their results.
                         Without it their values are unknown while validating.
  -no-warn-undeclared-var
                         Do not warn about var files that set undeclared variables.`,
  async run(args, ctx) {
    const parsed = parseFlags(args, flagSpecs);
    if (parsed.args.length !== 1) throw new UsageError(parsed.args.length === 0 ? 'validate needs a TEMPLATE argument' : 'validate takes exactly one TEMPLATE argument');
    const { template, diagnostics, sources } = await loadTemplate(parsed.args[0]!, {
      inputs: variableInputs(parsed),
      env: ctx.env,
      cwd: ctx.cwd,
      syntaxOnly: parsed.flags['syntax-only'],
      undeclaredVarFile: parsed.flags['no-warn-undeclared-var'] ? 'ignore' : 'warning',
      // As Packer: data sources run only when asked; otherwise data.T.N is unknown (of its type).
      dataSources: dataSourceLoading(ctx, parsed.flags['evaluate-datasources'], parsed.flags['use-sequential-evaluation']),
    });
    const diags = [...diagnostics];
    if (template && !hasErrors(diags) && !parsed.flags['syntax-only']) {
      const planned = expandBuilds(template, splitList(parsed.flags.only), splitList(parsed.flags.except));
      // Plugin components are started only when the template needs one, and stopped at once.
      const run = await componentsFor(template, { env: ctx.env, cwd: ctx.cwd, base: ctx.components });
      try {
        diags.push(...run.diagnostics);
        if (!hasErrors(diags)) diags.push(...bindBuilds(template, planned, run.components).diagnostics);
      } finally {
        await run.close();
      }
    }
    if (diags.length > 0) ctx.stderr.write(formatDiagnostics(diags, sources));
    if (hasErrors(diags)) return 1;
    // Packer 1.6.6 says nothing when a legacy JSON template is valid.
    if (!template?.legacy) ctx.stdout.write(parsed.flags['syntax-only'] ? 'Syntax-only check passed. Everything looks okay.\n' : 'The configuration is valid.\n');
    return 0;
  },
};
