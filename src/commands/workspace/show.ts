/** `builder workspace show [TEMPLATE]`: the current workspace's name. */
import type { Command } from '../../cli/command.js';
import { parseFlags } from '../../cli/flags.js';
import { locateWorkspace, WORKSPACE_TEMPLATE_HELP, workspaceFlags } from './options.js';

export const workspaceShowCommand: Command = {
  name: ['workspace', 'show'],
  synopsis: 'Print the current workspace',
  usage: `Usage: builder workspace show [options] [TEMPLATE]\n\n  Prints the name of the current workspace.\n\n${WORKSPACE_TEMPLATE_HELP}`,
  async run(args, ctx) {
    const { flags, args: rest } = parseFlags(args, workspaceFlags);
    const { location } = locateWorkspace(flags.state, rest, ctx, false);
    ctx.stdout.write(`${location.workspace}\n`);
    return 0;
  },
};
