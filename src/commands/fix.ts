/**
 * `builder fix [-validate=false] TEMPLATE.json`: rewrites a legacy JSON template with Packer's
 * fixers (src/template/legacy/fixers.ts, the 34 Packer 1.6.6 runs and current Packer keeps) and
 * prints the fixed template on stdout, as `packer fix` does; then validates it unless
 * `-validate=false`. The template file itself is not changed. HCL2 templates are refused, as
 * current Packer refuses them.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { fixLegacyTemplate, fixersHelp } from '../template/legacy/fix.js';

export const fixCommand: Command = {
  name: ['fix'],
  synopsis: 'fixes templates from old versions of packer',
  usage: `Usage: builder fix [options] TEMPLATE

  Reads the JSON template and attempts to fix known backwards incompatibilities. The fixed
  template is written to standard out; the file is not changed.

  If the template cannot be fixed due to an error, the command will exit with a non-zero exit
  status. Error messages will appear on standard error.

Fixes that are run (in order; Packer's, which current Packer keeps):

${fixersHelp()}

Options:

  -validate=true      If true (default), validates the fixed template.`,
  async run(args, ctx) {
    const parsed = parseFlags(args, { validate: { kind: 'bool', default: true } });
    if (parsed.args.length !== 1) throw new UsageError(parsed.args.length === 0 ? 'fix needs a TEMPLATE argument' : 'fix takes exactly one TEMPLATE argument');
    const path = parsed.args[0]!;
    const full = resolve(ctx.cwd, path);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      // Reported below, as the file cannot be opened.
    }
    if (isDir || path.endsWith('.pkr.hcl') || path.endsWith('.pkr.json')) {
      ctx.stderr.write('builder fix only works with legacy JSON templates (HCL2 templates need no fixing).\n');
      return 1;
    }
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (e) {
      ctx.stderr.write(`Error opening template: ${(e as Error).message}\n`);
      return 1;
    }
    const r = fixLegacyTemplate(text, parsed.flags.validate);
    ctx.stdout.write(r.stdout);
    ctx.stderr.write(r.stderr);
    return r.code;
  },
};
