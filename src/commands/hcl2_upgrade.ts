/**
 * `builder hcl2_upgrade [-output-file=FILE] [-with-annotations] TEMPLATE.json`: writes the HCL2
 * equivalent of a legacy JSON template as Packer 1.6.6's `packer hcl2_upgrade` writes it
 * (src/template/legacy/upgrade.ts), to FILE or to TEMPLATE.json.pkr.hcl, and prints
 * "Successfully created FILE " (with Packer's trailing space).
 *
 * Packer 1.6.6 always writes the explanatory comments; `-with-annotations` (the flag current Packer
 * needs for them) is accepted and changes nothing. As in 1.6.6, the output file is created and
 * its header written before the template is read, so a template that fails to parse leaves a file
 * holding only the header.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from '../cli/command.js';
import { systemErrorDetail, UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { formatDiagnostics } from '../diagnostics.js';
import { goMultiError, parseLegacyTemplate } from '../template/legacy/parse.js';
import { UPGRADE_FILE_HEADER, upgradeLegacyTemplate } from '../template/legacy/upgrade.js';

const flagSpecs = {
  'output-file': { kind: 'string' },
  'with-annotations': { kind: 'bool' },
} as const;

export const hcl2UpgradeCommand: Command = {
  name: ['hcl2_upgrade'],
  synopsis: 'transform a JSON template into an HCL2 configuration',
  usage: `Usage: builder hcl2_upgrade [-output-file=JSON_TEMPLATE.pkr.hcl] [-with-annotations] JSON_TEMPLATE

  Will transform your JSON template into an HCL2 configuration, as Packer 1.6.6 does.

Options:
  -output-file=PATH   Where to write the HCL2 file (default: JSON_TEMPLATE.pkr.hcl).
  -with-annotations   Accepted for current Packer's scripts; the explanatory comments are
                      always written, as Packer 1.6.6 writes them.`,
  async run(args, ctx) {
    const parsed = parseFlags(args, flagSpecs);
    if (parsed.args.length !== 1) throw new UsageError(parsed.args.length === 0 ? 'hcl2_upgrade needs a JSON_TEMPLATE argument' : 'hcl2_upgrade takes exactly one JSON_TEMPLATE argument');
    const path = parsed.args[0]!;
    const output = parsed.flags['output-file'] || `${path}.pkr.hcl`;
    const outPath = resolve(ctx.cwd, output);
    try {
      mkdirSync(dirname(outPath), { recursive: true });
      writeFileSync(outPath, UPGRADE_FILE_HEADER);
    } catch (e) {
      ctx.stderr.write(`Failed to create output file ${output}: ${systemErrorDetail(e)}\n`);
      return 1;
    }
    let text: string;
    try {
      text = readFileSync(resolve(ctx.cwd, path), 'utf8');
    } catch (e) {
      ctx.stderr.write(`Failed to read template ${path}: ${systemErrorDetail(e)}\n`);
      return 1;
    }
    const { template, diagnostics } = parseLegacyTemplate(text, path);
    if (!template) {
      // Packer's words: its parse error, a Go multierror.
      const errs = diagnostics.filter((d) => d.severity === 'error');
      const fromParser = errs.every((d) => d.summary === 'Failed to parse template');
      if (!fromParser) ctx.stderr.write(formatDiagnostics(diagnostics, (f) => (f === path ? text : undefined)));
      else ctx.stderr.write(`Failed to parse template: ${goMultiError(errs.map((d) => d.detail ?? ''))}\n`);
      return 1;
    }
    // Packer initialises its core first and reports (on stdout), without stopping, what that found.
    const required = template.variables.filter((v) => v.default === undefined).map((v) => `required variable not set: ${v.name}`);
    if (required.length > 0) ctx.stdout.write(`Ignoring following initialization error: ${goMultiError(required)}\n`);
    writeFileSync(outPath, upgradeLegacyTemplate(template));
    ctx.stdout.write(`Successfully created ${output} \n`);
    return 0;
  },
};
