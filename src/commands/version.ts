/** `builder version`: builder's version and the Packer language version it implements. */
import type { Command } from '../cli/command.js';
import { parseFlags } from '../cli/flags.js';
import { BUILDER_VERSION, PACKER_LANGUAGE_VERSION } from '../version.js';

export const versionCommand: Command = {
  name: ['version'],
  synopsis: 'Prints the builder version',
  usage: 'Usage: builder version\n\n  Prints the version of builder and the Packer language version it implements.',
  async run(args, ctx) {
    parseFlags(args, {});
    ctx.stdout.write(`builder v${BUILDER_VERSION}\nPacker language v${PACKER_LANGUAGE_VERSION}\n`);
    return 0;
  },
};
