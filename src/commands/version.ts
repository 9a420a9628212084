/**
 * `builder version`: builder's version and the Packer language version it implements.
 * `-machine-readable` prints Packer's machine-readable lines (`TIMESTAMP,,version,X`, then
 * `version-prelease`, `version-commit` and the `ui,say` line), as `packer version
 * -machine-readable` does. (`builder -version` prints the version alone: src/cli/main.ts.)
 */
import type { Command } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { BUILDER_VERSION, PACKER_LANGUAGE_VERSION } from '../version.js';

export const versionCommand: Command = {
  name: ['version'],
  synopsis: 'Prints the builder version',
  usage: `Usage: builder version [options]

  Prints the version of builder and the Packer language version it implements.

Options:

  -machine-readable      Print the version as Packer's machine-readable lines.`,
  async run(args, ctx) {
    const parsed = parseFlags(args, { 'machine-readable': { kind: 'bool' } });
    if (parsed.args.length > 0) throw new UsageError('version takes no arguments');
    if (parsed.flags['machine-readable']) {
      const t = Math.floor(Date.now() / 1000);
      const line = (...fields: string[]): string => `${t},,${fields.join(',')}\n`;
      ctx.stdout.write(line('version', BUILDER_VERSION) + line('version-prelease', '') + line('version-commit', '') + line('ui', 'say', `builder v${BUILDER_VERSION}`));
      return 0;
    }
    ctx.stdout.write(`builder v${BUILDER_VERSION}\nPacker language v${PACKER_LANGUAGE_VERSION}\n`);
    return 0;
  },
};
